//! `ApiJson<T>`: the JSON body extractor of both services.
//!
//! Like `web::Json`, but a body of the wrong shape is reported with the *path of the field* that
//! is wrong (`{"fields":[{"field":"email","message":"invalid type: integer `5`, expected a
//! string"}]}`), which serde's own message does not carry. Malformed JSON is `400
//! malformed_json`, a body over the limit `413 payload_too_large`, a non-JSON content type `415`.
//!
//! No text the platform accepts may contain U+0000 (NUL): PostgreSQL cannot store it in `text` or
//! `jsonb`, SQLite can, and both backends must answer alike (docs/adr/0012). A body holding one
//! anywhere — in a field the endpoint reads or not, in a key or a value — is `422
//! validation_failed` naming the field, before any handler runs.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpMessage as _, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{ErrorBody, FieldError};
use crate::http::Rendered;

/// A JSON request body, parsed into `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T> ApiJson<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ApiJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn rejected(status: StatusCode, body: ErrorBody) -> actix_web::Error {
    Rendered(status, body).into()
}

/// Parses a body, naming the failing field on a shape error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, actix_web::Error> {
    let malformed = || {
        rejected(
            StatusCode::BAD_REQUEST,
            ErrorBody::new("malformed_json", "the request body is not valid JSON"),
        )
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return malformed();
        }
        let path = e.path().to_string();
        let text = inner.to_string();
        let field = if path == "." || path.is_empty() {
            // A missing field is reported at the parent; serde names it in the message.
            text.split('`')
                .nth(1)
                .filter(|_| text.starts_with("missing field"))
                .unwrap_or("body")
                .to_owned()
        } else if text.starts_with("missing field") {
            format!("{path}.{}", text.split('`').nth(1).unwrap_or_default())
        } else {
            path
        };
        let message = text.split(" at line").next().unwrap_or(&text).to_owned();
        rejected(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorBody::new("validation_failed", "the request body is invalid")
                .with_fields(vec![FieldError { field, message }]),
        )
    })?;
    de.end().map_err(|_| malformed())?;
    if let Some(field) = nul_field(bytes) {
        return Err(rejected(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorBody::new("validation_failed", "the request body is invalid").with_fields(vec![
                FieldError {
                    field,
                    message: NUL_MESSAGE.to_owned(),
                },
            ]),
        ));
    }
    Ok(value)
}

/// The message of a field refused for holding U+0000.
pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// The path (`a.b[2]`, as in shape errors; `body` for the top level) of the first string or key
/// of a JSON document that holds U+0000, if any. JSON can only carry NUL as the escape `\u0000`,
/// so a document without that text is answered without being parsed again.
pub fn nul_field(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    nul_path(&value, String::new())
}

/// [`nul_field`] over a parsed value.
pub fn nul_in_value(value: &serde_json::Value) -> Option<String> {
    nul_path(value, String::new())
}

fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let here = |path: String| {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path
        }
    };
    match value {
        Value::String(text) => text.contains('\0').then(|| here(path)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let child = if path.is_empty() {
                key.replace('\0', "\\u0000")
            } else {
                format!("{path}.{}", key.replace('\0', "\\u0000"))
            };
            if key.contains('\0') {
                Some(child)
            } else {
                nul_path(item, child)
            }
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// True when the request says its body is JSON (`application/json` or a `+json` type).
fn is_json(req: &HttpRequest) -> bool {
    req.mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
}

fn not_json() -> actix_web::Error {
    rejected(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorBody::new(
            "unsupported_media_type",
            "the request body must be application/json",
        ),
    )
}

/// The whole body, within the configured payload limit (`413 payload_too_large` over it).
fn body_of(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, actix_web::Error>> + 'static {
    let body = web::Bytes::from_request(req, payload);
    async move {
        body.await.map_err(|_| {
            rejected(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorBody::new("payload_too_large", "the request body is too large"),
            )
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json(req) {
            return Box::pin(async { Err(not_json()) });
        }
        let body = body_of(req, payload);
        Box::pin(async move { parse(&body.await?).map(ApiJson) })
    }
}

/// An optional JSON body: no body at all is `None`; any body must be JSON of the right shape,
/// refused exactly like [`ApiJson`] (`Option<ApiJson<T>>` would instead turn every refusal —
/// random bytes, a wrong content type — into `None`).
#[derive(Debug)]
pub struct MaybeJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for MaybeJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let body = body_of(req, payload);
        Box::pin(async move {
            let bytes = body.await?;
            if bytes.is_empty() {
                return Ok(MaybeJson(None));
            }
            if !json {
                return Err(not_json());
            }
            parse(&bytes).map(|v| MaybeJson(Some(v)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
    }

    fn field_of(body: &str) -> String {
        let err = parse::<Login>(body.as_bytes()).unwrap_err();
        let res = err.error_response();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let rendered = err.as_error::<Rendered>().unwrap();
        rendered.1.error.fields.as_ref().unwrap()[0].field.clone()
    }

    #[test]
    fn names_the_failing_field() {
        assert_eq!(field_of(r#"{"email": 5, "password": "x"}"#), "email");
        assert_eq!(field_of(r#"{"email": "a", "password": null}"#), "password");
        assert_eq!(field_of(r#"{"email": "a"}"#), "password");
        assert_eq!(field_of("[1,2]"), "[0]");
        assert_eq!(field_of("5"), "body");
        let err = parse::<Login>(b"{nope").unwrap_err();
        assert_eq!(err.error_response().status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn refuses_nul_anywhere_naming_the_field() {
        assert_eq!(
            field_of(r#"{"email": "a\u0000b", "password": "x"}"#),
            "email"
        );
        assert_eq!(
            field_of(r#"{"email": "a", "password": "x", "extra": {"list": ["ok", "\u0000"]}}"#),
            "extra.list[1]"
        );
        assert_eq!(nul_field(br#"{"k\u0000": 1}"#).as_deref(), Some("k\\u0000"));
        assert_eq!(nul_field(br#""\u0000""#).as_deref(), Some("body"));
        // An escaped backslash followed by `u0000` is six ordinary characters.
        assert_eq!(nul_field(br#"{"a": "\\u0000"}"#), None);
        assert!(parse::<Login>(br#"{"email": "\\u0000", "password": "x"}"#).is_ok());
        assert_eq!(nul_field(br#"{"a": "\u0001\t"}"#), None);
    }
}
