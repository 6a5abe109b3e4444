//! One call to a datasource's query API: the answer is decoded while it
//! downloads (a blocking thread reads the chunks the async side receives),
//! refused past [`MAX_RESPONSE_BYTES`], and an error answer becomes the
//! datasource's own message with its status.

use std::io::Read;
use std::time::Duration;

use axum::body::Bytes;
use tokio::sync::mpsc;

use super::frames::Envelope;
use super::{MAX_RESPONSE_BYTES, QueryError};
use crate::datasource::Datasource;
use crate::proxy::{UpstreamError, client, timeout_of, upstream_url, with_credentials};

/// The most of an error answer read (its message is what matters).
const MAX_ERROR_BYTES: usize = 1024 * 1024;

/// Calls `path` of `ds` with `params` (a POST form or a GET query string):
/// the envelope of a success, else the datasource's error.
pub(super) async fn call(
    ds: &Datasource,
    path: &str,
    params: Vec<(&str, String)>,
    post: bool,
) -> Result<Envelope, QueryError> {
    let client = client()?;
    let url = upstream_url(ds, path);
    let timeout = timeout_of(ds);
    let request = if post {
        client.post(&url).form(&params)
    } else {
        client.get(&url).query(&params)
    };
    let request = with_credentials(ds, request.timeout(timeout));
    let response = request
        .send()
        .await
        .map_err(|e| QueryError::from(UpstreamError::from_reqwest(e, timeout)))?;
    let status = response.status();
    if !status.is_success() {
        let body = read_capped(response, MAX_ERROR_BYTES, timeout).await;
        return Err(error_answer(status.as_u16(), &body.unwrap_or_default()));
    }
    let envelope = decode_streaming(response, MAX_RESPONSE_BYTES, timeout).await?;
    if envelope.status != "success" {
        let text = envelope
            .error
            .or(envelope.error_type)
            .unwrap_or_else(|| format!("the datasource answered status {:?}", envelope.status));
        return Err(QueryError::new(500, text));
    }
    Ok(envelope)
}

/// The message of an error answer: the envelope's `error` (Prometheus),
/// else the body as text (Loki writes its errors as plain text).
fn error_answer(status: u16, body: &[u8]) -> QueryError {
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(body) {
        if let Some(text) = envelope.error.or(envelope.error_type) {
            return QueryError::new(status, text);
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let text = if text.is_empty() {
        format!("the datasource answered {status}")
    } else {
        text.chars().take(2048).collect()
    };
    QueryError::new(status, text)
}

fn too_large(cap: usize) -> QueryError {
    let size = if cap >= 1024 * 1024 {
        format!("{} MiB", cap / (1024 * 1024))
    } else {
        format!("{cap} bytes")
    };
    QueryError::new(
        502,
        format!(
            "the datasource's answer is larger than {size}: narrow the query or the time range"
        ),
    )
}

/// The body, refused past `cap` bytes.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    timeout: Duration,
) -> Result<Vec<u8>, QueryError> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err(too_large(cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| QueryError::from(UpstreamError::from_reqwest(e, timeout)))?
    {
        if body.len() + chunk.len() > cap {
            return Err(too_large(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Decodes the envelope on a blocking thread while the chunks arrive, so
/// the whole body is never held at once.
async fn decode_streaming(
    mut response: reqwest::Response,
    cap: usize,
    timeout: Duration,
) -> Result<Envelope, QueryError> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err(too_large(cap));
    }
    let (chunks, receiver) = mpsc::channel::<Bytes>(8);
    let decoder = tokio::task::spawn_blocking(move || {
        let reader = std::io::BufReader::with_capacity(
            64 * 1024,
            ChunkReader {
                receiver,
                current: Bytes::new(),
            },
        );
        serde_json::from_reader::<_, Envelope>(reader)
    });
    let mut total = 0usize;
    let mut failure = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                total += chunk.len();
                if total > cap {
                    failure = Some(too_large(cap));
                    break;
                }
                // The decoder stops early on malformed JSON: its error
                // says why.
                if chunks.send(chunk).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                failure = Some(QueryError::from(UpstreamError::from_reqwest(e, timeout)));
                break;
            }
        }
    }
    // The end of the input for the decoder (cut short on a failure).
    drop(chunks);
    let decoded = decoder
        .await
        .map_err(|e| QueryError::new(500, format!("decoding the answer failed: {e}")))?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    decoded.map_err(|e| {
        QueryError::new(
            502,
            format!("the datasource's answer is not the expected JSON: {e}"),
        )
    })
}

/// The chunks of a body as a blocking [`Read`].
struct ChunkReader {
    receiver: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.receiver.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server answering `body` with chunked encoding (no length known
    /// in advance) in 1000-byte chunks, and a response from it.
    async fn response(body: String) -> reqwest::Response {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let mut answer =
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    .to_vec();
            for chunk in body.as_bytes().chunks(1000) {
                answer.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                answer.extend_from_slice(chunk);
                answer.extend_from_slice(b"\r\n");
            }
            answer.extend_from_slice(b"0\r\n\r\n");
            // The client may stop reading early (the cap): ignore that.
            let _ = stream.write_all(&answer).await;
        });
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap()
    }

    fn matrix(points: usize) -> String {
        let values: Vec<String> = (0..points).map(|i| format!("[{i},\"{i}\"]")).collect();
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"job":"a"}},"values":[{}]}}]}}}}"#,
            values.join(",")
        )
    }

    #[tokio::test]
    async fn a_large_answer_decodes_across_chunks() {
        let envelope = decode_streaming(
            response(matrix(20_000)).await,
            10 << 20,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        match envelope.data {
            Some(super::super::frames::Decoded::Matrix(series)) => {
                assert_eq!(series[0].values.len(), 20_000);
                assert_eq!(series[0].values[19_999].1, "19999");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_answer_past_the_cap_is_refused() {
        let err = decode_streaming(
            response(matrix(20_000)).await,
            50_000,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, 502);
        assert!(err.message.contains("larger than 50000 bytes"), "{err}");
    }

    #[tokio::test]
    async fn malformed_json_is_named() {
        let err = decode_streaming(
            response("{\"status\":".into()).await,
            1 << 20,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert!(err.message.contains("not the expected JSON"), "{err}");
    }

    #[test]
    fn error_answers() {
        let prom = br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert_eq!(error_answer(400, prom), QueryError::new(400, "parse error"));
        assert_eq!(
            error_answer(400, b"parse error at line 1\n"),
            QueryError::new(400, "parse error at line 1")
        );
        assert_eq!(
            error_answer(503, b""),
            QueryError::new(503, "the datasource answered 503")
        );
    }
}
