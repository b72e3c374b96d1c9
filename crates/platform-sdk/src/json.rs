//! `ApiJson<T>`: the JSON body extractor of both services.
//!
//! Like `web::Json`, but a body of the wrong shape is reported with the *path of the field* that
//! is wrong (`{"fields":[{"field":"email","message":"invalid type: integer `5`, expected a
//! string"}]}`), which serde's own message does not carry. Malformed JSON is `400
//! malformed_json`, a body over the limit `413 payload_too_large`, a non-JSON content type `415`.

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
    Ok(value)
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
        if !json {
            return Box::pin(async {
                Err(rejected(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorBody::new(
                        "unsupported_media_type",
                        "the request body must be application/json",
                    ),
                ))
            });
        }
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|_| {
                rejected(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorBody::new("payload_too_large", "the request body is too large"),
                )
            })?;
            parse(&bytes).map(ApiJson)
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
}
