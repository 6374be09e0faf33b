//! Responses: the body type of requests and responses through the gateway, and Tyk's JSON
//! answers.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};

/// Any error a body may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body of requests and responses through the gateway.
pub type Body = BoxBody<Bytes, BoxError>;

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Tyk's error answer: `{"error": "<message>"}` (indented as Tyk writes it), as JSON.
pub fn error_response(status: StatusCode, message: &str) -> Response<Body> {
    let text = format!(
        "{{\n    \"error\": {}\n}}",
        serde_json::Value::from(message)
    );
    json_response(status, text)
}

/// A JSON answer.
pub fn json_response(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
