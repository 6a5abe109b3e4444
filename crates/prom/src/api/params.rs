//! Request parameters as Prometheus reads them: from the query string and,
//! for POST, from a form body, repeated keys allowed (`match[]`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use model::Matcher;
use promql_parser::parser::Expr;

use super::respond::ApiError;

/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 10 << 20;

/// All parameters of a request, body ones first (Go's `FormValue` order).
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let query = request.uri().query().unwrap_or("").to_owned();
        let is_form = request.method() == Method::POST
            && request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let mut pairs = Vec::new();
        if is_form {
            let body = Bytes::from_request(request, state)
                .await
                .map_err(|e| ApiError::bad_data(format!("error parsing form body: {e}")))?;
            if body.len() > MAX_FORM_BYTES {
                return Err(ApiError::bad_data("request body too large"));
            }
            pairs.extend(form_urlencoded::parse(&body).into_owned());
        }
        pairs.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
        Ok(Params(pairs))
    }
}

impl Params {
    /// Parameters from pairs, for tests and internal calls.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A time parameter in milliseconds, or `default` when absent or empty.
    pub fn time_or(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(text) => model::time::parse_time_ms(text).map_err(|e| {
                ApiError::bad_param(name, format!("Invalid time value for '{name}': {e}"))
            }),
        }
    }

    /// A non-negative `limit`; 0 or absent means none.
    pub fn limit(&self) -> Result<Option<usize>, ApiError> {
        match self.get("limit").filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => {
                let limit: i64 = text
                    .parse()
                    .map_err(|_| ApiError::bad_param("limit", "cannot parse \"limit\""))?;
                if limit < 0 {
                    return Err(ApiError::bad_param("limit", "limit must be non-negative"));
                }
                Ok((limit > 0).then_some(limit as usize))
            }
        }
    }

    /// The `match[]` selectors as matcher sets: one per selector, or one
    /// per alternative of a selector with `or` in its braces.
    pub fn selectors(&self) -> Result<Vec<Vec<Matcher>>, ApiError> {
        let mut sets = Vec::new();
        for text in self.all("match[]") {
            sets.extend(parse_selector(text)?);
        }
        Ok(sets)
    }
}

/// Parses a series selector such as `up{job="api"}` into matcher sets (one
/// per alternative, see [`promql::selector_matchers`]), refusing a set that
/// every series would match, as Prometheus' API does.
pub fn parse_selector(text: &str) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let expr = promql_parser::parser::parse(text)
        .map_err(|e| ApiError::bad_data(format!("1:1: parse error: {e}")))?;
    let Expr::VectorSelector(selector) = expr else {
        return Err(ApiError::bad_data(format!(
            "invalid parameter \"match[]\": {text:?} is not a series selector"
        )));
    };
    let sets =
        promql::selector_matchers(&selector).map_err(|e| ApiError::bad_data(e.to_string()))?;
    if sets
        .iter()
        .any(|set| set.iter().all(Matcher::matches_empty))
    {
        return Err(ApiError::bad_data(
            "match[] must contain at least one non-empty matcher",
        ));
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        let sets = parse_selector(r#"up{job=~"a.*", instance!="x"}"#).unwrap();
        let text: Vec<Vec<String>> = sets
            .iter()
            .map(|set| set.iter().map(ToString::to_string).collect())
            .collect();
        assert_eq!(
            text,
            [[r#"job=~"a.*""#, r#"instance!="x""#, r#"__name__="up""#]]
        );
        // Each alternative is a set of its own, and each must select.
        assert_eq!(parse_selector(r#"{a="1" or b="2"}"#).unwrap().len(), 2);
        assert!(parse_selector(r#"{a="1" or b=~".*"}"#).is_err());
        let params = Params::from_pairs([("match[]", "up"), ("match[]", r#"{a="1" or b="2"}"#)]);
        assert_eq!(params.selectors().unwrap().len(), 3);
        assert!(parse_selector(r#"{job=~".*"}"#).is_err());
        assert!(parse_selector("sum(up)").is_err());
        assert!(parse_selector("up{").is_err());
    }

    #[test]
    fn times_and_limits() {
        let params = Params::from_pairs([("start", "10"), ("end", "abc"), ("limit", "-1")]);
        assert_eq!(params.time_or("start", 0).unwrap(), 10_000);
        assert_eq!(params.time_or("missing", 7).unwrap(), 7);
        assert_eq!(
            params.time_or("end", 0).unwrap_err().message,
            r#"invalid parameter "end": Invalid time value for 'end': cannot parse "abc" to a valid timestamp"#
        );
        assert!(params.limit().is_err());
    }
}
