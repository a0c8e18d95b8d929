//! The error of a request: every variant becomes a 4xx (or 500) response with a JSON message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::raster::FileProblem;

/// Why a request failed; every variant becomes a 4xx (or 500) response with a JSON body
/// `{"error": MESSAGE, "status": CODE}`.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 400: a malformed request (bad number, unknown layer, tile index out of range …).
    BadRequest(String),
    /// 404: no such area, year or layer; a tile or point outside the data; no results at all.
    NotFound(String),
    /// 422: a result file exists but cannot be read (corrupted, not a raster …).
    BadFile(FileProblem),
    /// 500: a failure of the server itself.
    Internal(String),
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadFile(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    pub(crate) fn message(&self) -> String {
        match self {
            ApiError::BadRequest(m) | ApiError::NotFound(m) | ApiError::Internal(m) => m.clone(),
            ApiError::BadFile(p) => format!("the result file {} cannot be read: {}", p.file, p.reason),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::json!({"error": self.message(), "status": status.as_u16()});
        (status, [("cache-control", "no-store")], axum::Json(body)).into_response()
    }
}
