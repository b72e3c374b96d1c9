-- Runs once, on the first start of an empty postgres data volume
-- (docker-entrypoint-initdb.d), as POSTGRES_USER (symphainy).
-- Each service owns its database and runs its own embedded migrations.
CREATE DATABASE experience;
CREATE DATABASE runtime;
