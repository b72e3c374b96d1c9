//! Which provider answers for an agent. The builtin agents run on the platform's configured
//! provider; a deployed wrapper names its own (`builtin`, or `openai` on the platform's model
//! server or on its own `base_url`). A tenant's `base_url` gets a client of its own, without the
//! platform's API key: the key is the platform's secret, never sent to a server a tenant chose
//! (docs/adr/0016-agent-wrappers.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::builtin::BuiltinProvider;
use super::openai::{OpenAiProvider, OpenAiSettings};
use super::{Agent, ModelProvider, ProviderError};
use crate::configuration::ProviderKind;

/// Tenant model servers kept with an open client; past this the cache starts over.
const MAX_TENANT_SERVERS: usize = 256;

/// The providers an agent can run on.
pub struct Providers {
    builtin: Arc<dyn ModelProvider>,
    platform: Arc<dyn ModelProvider>,
    platform_settings: OpenAiSettings,
    tenant_servers: Mutex<HashMap<String, Arc<dyn ModelProvider>>>,
}

impl Providers {
    /// Over the platform's model server settings (`llm.*`).
    pub fn new(platform_settings: OpenAiSettings) -> Result<Self, ProviderError> {
        Ok(Self {
            builtin: Arc::new(BuiltinProvider),
            platform: Arc::new(OpenAiProvider::new(platform_settings.clone())?),
            platform_settings,
            tenant_servers: Mutex::new(HashMap::new()),
        })
    }

    /// With the platform's server replaced (tests and embedders that bring their own provider).
    pub fn with_platform(mut self, platform: Arc<dyn ModelProvider>) -> Self {
        self.platform = platform;
        self
    }

    /// The provider that answers for `agent`.
    pub fn for_agent(&self, agent: &Agent) -> Result<Arc<dyn ModelProvider>, ProviderError> {
        match (agent.provider, agent.base_url.as_deref()) {
            (ProviderKind::Builtin, _) => Ok(self.builtin.clone()),
            (ProviderKind::Openai, None) => Ok(self.platform.clone()),
            (ProviderKind::Openai, Some(url)) => self.tenant_server(url),
        }
    }

    fn tenant_server(&self, base_url: &str) -> Result<Arc<dyn ModelProvider>, ProviderError> {
        let mut servers = self
            .tenant_servers
            .lock()
            .map_err(|_| ProviderError::Protocol("provider cache poisoned".into()))?;
        if let Some(p) = servers.get(base_url) {
            return Ok(p.clone());
        }
        if servers.len() >= MAX_TENANT_SERVERS {
            servers.clear();
        }
        let provider: Arc<dyn ModelProvider> = Arc::new(OpenAiProvider::new(OpenAiSettings {
            base_url: base_url.to_owned(),
            api_key: None,
            ..self.platform_settings.clone()
        })?);
        servers.insert(base_url.to_owned(), provider.clone());
        Ok(provider)
    }
}
