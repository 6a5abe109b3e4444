//! Loki's JSON push body, `{"streams":[{"stream":{…},"values":[["<ns>","line",{…}]]}]}`,
//! with Loki's error texts.
//!
//! Loki (json-iterator) first walks the document strictly, taking each
//! stream object as raw bytes, then reads each stream's content. Errors of
//! the walk and of a stream's content are both reported json-iterator's way:
//! `<path>: <op>: <msg>, error found in #N byte of ...|<10 bytes either
//! side>|..., bigger context ...|<50 bytes either side>|...`. This module
//! does the same two steps: a strict walk by hand, then serde_json with
//! visitors over each stream's bytes, borrowing label text where it can.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::labels::{labels_string, parse_labels};
use super::{PushEntry, PushError, PushRequest, PushStream, metadata_from_pairs};

/// json-iterator's nesting limit.
const MAX_DEPTH: usize = 10_000;
/// json-iterator reads a body through a buffer of this size; its error
/// context shows only the buffer's current contents.
const READ_BUFFER: usize = 512;

/// The path prefixes json-iterator puts before an error, outermost first.
const REQUEST_PATH: &str = "loghttp.PushRequest.";
const STREAMS_PATH: &str = "Streams: []*loghttp.Stream: ";

/// jsonparser's messages, which Loki 2.8 returns for a stream's content.
const MALFORMED_VALUE: &str =
    "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol";
const MALFORMED_STRING: &str = "Value is string, but can't find closing '\"' symbol";
const MALFORMED_ARRAY: &str = "Value is array, but can't find closing ']' symbol";
const MALFORMED_OBJECT: &str = "Value looks like object, but can't find closing '}' symbol";
const OVERFLOW_INTEGER: &str = "Value is number, but overflowed while parsing";

/// An error at a byte offset (json-iterator's `head`: just past the byte
/// that was read last).
struct JsonErr {
    head: usize,
    op: &'static str,
    msg: String,
}

fn found(c: Option<u8>) -> String {
    // json-iterator prints the byte it found as a one-byte string; at the
    // end of input that byte is 0.
    char::from(c.unwrap_or(0)).to_string()
}

/// A body as json-iterator sees it.
struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Walker<'a> {
    fn err<T>(&self, op: &'static str, msg: impl Into<String>) -> Result<T, JsonErr> {
        Err(JsonErr {
            head: self.pos,
            op,
            msg: msg.into(),
        })
    }

    /// The next byte that is not white space, consumed (`None` at the end).
    fn next_token(&mut self) -> Option<u8> {
        while let Some(&c) = self.buf.get(self.pos) {
            self.pos += 1;
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(c);
            }
        }
        None
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn read_byte(&mut self) -> Option<u8> {
        let c = self.buf.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn expect_bytes(&mut self, rest: &[u8], op: &'static str) -> Result<(), JsonErr> {
        for &b in rest {
            if self.read_byte() != Some(b) {
                return self.err(op, format!("expect {}", String::from_utf8_lossy(rest)));
            }
        }
        Ok(())
    }

    /// The rest of a string whose opening quote was read; returns its raw bytes.
    fn string_body(&mut self) -> Result<&'a [u8], JsonErr> {
        let start = self.pos;
        loop {
            match self.read_byte() {
                None => return self.err("readStringSlowPath", "unexpected end of input"),
                Some(b'"') => return Ok(&self.buf[start..self.pos - 1]),
                Some(b'\\') => match self.read_byte() {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                    Some(b'u') => {
                        for _ in 0..4 {
                            match self.read_byte() {
                                Some(h) if h.is_ascii_hexdigit() => {}
                                None => {
                                    return self
                                        .err("readStringSlowPath", "unexpected end of input");
                                }
                                Some(_) => {
                                    return self
                                        .err("readU4", "expects 0~9 or a~f, but found invalid");
                                }
                            }
                        }
                    }
                    None => return self.err("readStringSlowPath", "unexpected end of input"),
                    Some(_) => return self.err("readEscapedChar", "invalid escape char after \\"),
                },
                Some(c) if c < b' ' => {
                    return self.err(
                        "ReadString",
                        format!("invalid control character found: {c}"),
                    );
                }
                Some(_) => {}
            }
        }
    }

    /// `ReadString`: a string (or `null`, read as empty).
    fn read_string(&mut self) -> Result<&'a [u8], JsonErr> {
        match self.next_token() {
            Some(b'"') => self.string_body(),
            Some(b'n') => self
                .expect_bytes(b"ull", "skipThreeBytes")
                .map(|()| &b""[..]),
            c => self.err(
                "ReadString",
                format!("expects \" or n, but found {}", found(c)),
            ),
        }
    }

    fn skip_number(&mut self) -> Result<(), JsonErr> {
        let mut dot = false;
        while let Some(&c) = self.buf.get(self.pos) {
            match c {
                b'0'..=b'9' | b'-' | b'+' | b'e' | b'E' => self.pos += 1,
                b'.' if dot => {
                    return self.err("validateNumber", "more than one dot found in number");
                }
                b'.' => {
                    dot = true;
                    self.pos += 1;
                    if !self.buf.get(self.pos).is_some_and(u8::is_ascii_digit) {
                        return self.err("validateNumber", "missing digit after dot");
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// json-iterator's strict `Skip`: one value, any depth, without recursion.
    fn skip(&mut self, depth: usize) -> Result<(), JsonErr> {
        #[derive(Clone, Copy)]
        enum In {
            Array,
            Object,
        }
        let mut stack: Vec<In> = Vec::new();
        'value: loop {
            match self.next_token() {
                Some(b'"') => {
                    self.string_body()?;
                }
                Some(b'n') => self.expect_bytes(b"ull", "skipThreeBytes")?,
                Some(b't') => self.expect_bytes(b"rue", "skipThreeBytes")?,
                Some(b'f') => self.expect_bytes(b"alse", "skipFourBytes")?,
                Some(b'-' | b'0'..=b'9') => self.skip_number()?,
                Some(open @ (b'[' | b'{')) => {
                    if depth + stack.len() >= MAX_DEPTH {
                        return self.err(
                            "incrementDepth",
                            format!("exceeded max depth of {MAX_DEPTH}"),
                        );
                    }
                    let c = self.next_token();
                    if open == b'[' {
                        if c != Some(b']') {
                            self.unread_unless_end(c);
                            stack.push(In::Array);
                            continue 'value;
                        }
                    } else if c == Some(b'"') {
                        self.string_body()?;
                        self.colon("ReadObject")?;
                        stack.push(In::Object);
                        continue 'value;
                    } else if c != Some(b'}') {
                        return self.err(
                            "ReadObjectCB",
                            format!("expect \" after {{, but found {}", found(c)),
                        );
                    }
                }
                c => {
                    return self.err(
                        "Skip",
                        format!("do not know how to skip: {}", c.unwrap_or(0)),
                    );
                }
            }
            // A value ended: close what it ends.
            loop {
                match stack.last() {
                    None => return Ok(()),
                    Some(In::Array) => match self.next_token() {
                        Some(b',') => continue 'value,
                        Some(b']') => {
                            stack.pop();
                        }
                        c => {
                            return self.err(
                                "ReadArrayCB",
                                format!("expect ] in the end, but found {}", found(c)),
                            );
                        }
                    },
                    Some(In::Object) => match self.next_token() {
                        Some(b',') => {
                            self.read_string()?;
                            self.colon("ReadObject")?;
                            continue 'value;
                        }
                        Some(b'}') => {
                            stack.pop();
                        }
                        _ => return self.err("ReadObjectCB", "object not ended with }"),
                    },
                }
            }
        }
    }

    fn unread_unless_end(&mut self, c: Option<u8>) {
        if c.is_some() {
            self.unread();
        }
    }

    fn colon(&mut self, op: &'static str) -> Result<(), JsonErr> {
        match self.next_token() {
            Some(b':') => Ok(()),
            c => self.err(
                op,
                format!("expect : after object field, but found {}", found(c)),
            ),
        }
    }
}

/// Renders an error as json-iterator does, with the window of the read
/// buffer that holds `head`.
fn render(buf: &[u8], e: &JsonErr, path: &str) -> String {
    let head = e.head.min(buf.len());
    // The buffer json-iterator had loaded: the 512-byte block holding the
    // byte before `head` (at the end of input it keeps the last block).
    let block_start = head.saturating_sub(1) / READ_BUFFER * READ_BUFFER;
    let block_end = (block_start + READ_BUFFER).min(buf.len());
    let peek_start = head.saturating_sub(10).max(block_start);
    let peek_end = (head + 10).min(block_end);
    let ctx_start = head.saturating_sub(50).max(block_start);
    let ctx_end = (head + 50).min(block_end);
    format!(
        "{path}{}: {}, error found in #{} byte of ...|{}|..., bigger context ...|{}|...",
        e.op,
        e.msg,
        head - peek_start,
        String::from_utf8_lossy(&buf[peek_start..peek_end]),
        String::from_utf8_lossy(&buf[ctx_start..ctx_end]),
    )
}

/// Decodes an uncompressed JSON push body.
pub fn decode_json(body: &[u8]) -> Result<PushRequest, PushError> {
    let mut w = Walker { buf: body, pos: 0 };
    let mut streams = Vec::new();
    match walk_request(&mut w, &mut streams) {
        Ok(()) => Ok(PushRequest { streams }),
        Err(Failure::Walk(e)) => Err(PushError::bad(render(body, &e, REQUEST_PATH))),
        Err(Failure::Streams(e)) => Err(PushError::bad(render(
            body,
            &e,
            &format!("{REQUEST_PATH}{STREAMS_PATH}"),
        ))),
        Err(Failure::Labels(msg)) => Err(PushError::BadRequest(msg)),
    }
}

enum Failure {
    /// An error of the request object itself.
    Walk(JsonErr),
    /// An error inside the `streams` field.
    Streams(JsonErr),
    /// A stream's label set that Loki's label parser refuses.
    Labels(String),
}

/// The request object: its `streams` field (matched without regard to
/// case, as json-iterator does), other fields skipped.
fn walk_request(w: &mut Walker<'_>, streams: &mut Vec<PushStream>) -> Result<(), Failure> {
    match w.next_token() {
        Some(b'{') => {}
        Some(b'n') => {
            return w
                .expect_bytes(b"ull", "skipThreeBytes")
                .map_err(Failure::Walk);
        }
        c => {
            return Err(Failure::Walk(JsonErr {
                head: w.pos,
                op: "readObjectStart",
                msg: format!("expect {{ or n, but found {}", found(c)),
            }));
        }
    }
    match w.next_token() {
        Some(b'}') => return Ok(()),
        Some(_) => w.unread(),
        None => {}
    }
    loop {
        let name = match w.next_token() {
            Some(b'"') => w.string_body().map_err(|mut e| {
                e.op = "readFieldHash";
                e.msg = "incomplete field name".to_owned();
                Failure::Walk(e)
            })?,
            c => {
                return Err(Failure::Walk(JsonErr {
                    head: w.pos,
                    op: "readFieldHash",
                    msg: format!("expect \", but found {}", found(c)),
                }));
            }
        };
        match w.next_token() {
            Some(b':') => {}
            c => {
                return Err(Failure::Walk(JsonErr {
                    head: w.pos,
                    op: "readFieldHash",
                    msg: format!("expect :, but found {}", found(c)),
                }));
            }
        }
        if name.eq_ignore_ascii_case(b"streams") {
            walk_streams(w, streams)?;
        } else {
            w.skip(1).map_err(Failure::Walk)?;
        }
        match w.next_token() {
            Some(b',') => {}
            Some(b'}') => return Ok(()),
            c => {
                return Err(Failure::Walk(JsonErr {
                    head: w.pos,
                    op: "isObjectEnd",
                    msg: format!("object ended prematurely, unexpected char {}", found(c)),
                }));
            }
        }
    }
}

/// The `streams` array: each element is taken whole, then read.
fn walk_streams(w: &mut Walker<'_>, streams: &mut Vec<PushStream>) -> Result<(), Failure> {
    let walk = |e| Failure::Streams(e);
    match w.next_token() {
        Some(b'[') => {}
        Some(b'n') => return w.expect_bytes(b"ull", "skipThreeBytes").map_err(walk),
        c => {
            return w
                .err(
                    "decode slice",
                    format!("expect [ or n, but found {}", found(c)),
                )
                .map_err(walk);
        }
    }
    match w.next_token() {
        Some(b']') => return Ok(()),
        Some(_) => w.unread(),
        None => {}
    }
    loop {
        // A `null` element is no stream.
        let c = w.next_token();
        if c == Some(b'n') {
            w.expect_bytes(b"ull", "skipThreeBytes").map_err(walk)?;
        } else {
            w.unread_unless_end(c);
            let start = w.pos;
            w.skip(2).map_err(walk)?;
            let raw = &w.buf[start..w.pos];
            match read_stream(raw) {
                Ok(Some(stream)) => streams.push(stream),
                Ok(None) => {}
                Err(StreamErr::Content(msg)) => {
                    return Err(Failure::Streams(JsonErr {
                        head: w.pos,
                        op: "unmarshalerDecoder",
                        msg,
                    }));
                }
                Err(StreamErr::Labels(msg)) => return Err(Failure::Labels(msg)),
            }
        }
        match w.next_token() {
            Some(b',') => {}
            Some(b']') => return Ok(()),
            c => {
                return w
                    .err("decode slice", format!("expect ], but found {}", found(c)))
                    .map_err(walk);
            }
        }
    }
}

enum StreamErr {
    Content(String),
    Labels(String),
}

/// One stream object's content.
fn read_stream(raw: &[u8]) -> Result<Option<PushStream>, StreamErr> {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let body = StreamSeed
        .deserialize(&mut de)
        .map_err(|e| StreamErr::Content(content_message(&e)))?;
    let Some(body) = body else {
        return Ok(None);
    };
    // Loki renders the JSON labels as text and reads that text back, so a
    // name that is not a valid label name fails as it would in a protobuf push.
    let rendered = labels_string(&model::Labels::from_pairs(body.labels));
    let parsed = parse_labels(&rendered).map_err(|e| StreamErr::Labels(e.0))?;
    Ok(Some(PushStream {
        labels_text: labels_string(&parsed.labels),
        labels: parsed.labels,
        label_count: parsed.count,
        duplicate_label: None,
        entries: body.entries,
    }))
}

/// The message of a content error: ours without serde's position suffix,
/// or jsonparser's closest text for serde's own errors.
fn content_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let msg = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    if [
        MALFORMED_VALUE,
        MALFORMED_STRING,
        MALFORMED_ARRAY,
        MALFORMED_OBJECT,
        OVERFLOW_INTEGER,
    ]
    .contains(&msg)
    {
        msg.to_owned()
    } else if e.is_eof() || e.is_syntax() {
        MALFORMED_VALUE.to_owned()
    } else {
        // A value of the wrong type where an object was expected.
        MALFORMED_OBJECT.to_owned()
    }
}

struct StreamBody<'de> {
    labels: Vec<(Cow<'de, str>, Cow<'de, str>)>,
    entries: Vec<PushEntry>,
}

/// A stream object, or `None` for anything that is not an object and not
/// an error (Loki would fail; we keep the message jsonparser gives).
struct StreamSeed;

impl<'de> DeserializeSeed<'de> for StreamSeed {
    type Value = Option<StreamBody<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(StreamVisitor)
    }
}

struct StreamVisitor;

impl<'de> Visitor<'de> for StreamVisitor {
    type Value = Option<StreamBody<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a stream object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut body = StreamBody {
            labels: Vec::new(),
            entries: Vec::new(),
        };
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "stream" => body.labels = map.next_value_seed(PairsSeed)?,
                "values" => body.entries = map.next_value_seed(EntriesSeed)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(body))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(MALFORMED_OBJECT))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_OBJECT))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_OBJECT))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_OBJECT))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_OBJECT))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_OBJECT))
    }
}

/// An object of string values (`stream`, or an entry's metadata); `null`
/// is empty.
struct PairsSeed;

impl<'de> DeserializeSeed<'de> for PairsSeed {
    type Value = Vec<(Cow<'de, str>, Cow<'de, str>)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(PairsVisitor)
    }
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Vec<(Cow<'de, str>, Cow<'de, str>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of strings")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
            let value = map.next_value_seed(StrSeed(MALFORMED_STRING))?;
            pairs.push((name, value));
        }
        Ok(pairs)
    }
}

/// A string, borrowed when it has no escapes; anything else fails with `.0`.
struct StrSeed(&'static str);

impl<'de> DeserializeSeed<'de> for StrSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(StrVisitor(self.0))
    }
}

struct StrVisitor(&'static str);

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(self.0))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(self.0))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(self.0))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(self.0))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom(self.0))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(self.0))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(self.0))
    }
}

/// `values`: an array of entries; `null` is none.
struct EntriesSeed;

impl<'de> DeserializeSeed<'de> for EntriesSeed {
    type Value = Vec<PushEntry>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Vec<PushEntry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of entries")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(entry) = seq.next_element_seed(EntrySeed)? {
            if let Some(entry) = entry {
                entries.push(entry);
            }
        }
        Ok(entries)
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(MALFORMED_ARRAY))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
}

/// One entry, `["<ns>", "line"]` or `["<ns>", "line", {metadata}]`; `null`
/// is skipped, as Loki skips it.
struct EntrySeed;

impl<'de> DeserializeSeed<'de> for EntrySeed {
    type Value = Option<PushEntry>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

/// Go's `strconv.ParseInt(s, 10, 64)` as jsonparser applies it.
fn parse_ns(s: &str) -> Result<i64, &'static str> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MALFORMED_VALUE);
    }
    s.parse::<i64>().map_err(|_| OVERFLOW_INTEGER)
}

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Option<PushEntry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an entry array")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // A timestamp that is not a string is what Loki 2.8 reports as
        // jsonparser's "looks like Number/Boolean/None".
        let Some(ts) = seq.next_element_seed(StrSeed(MALFORMED_VALUE))? else {
            return Ok(Some(PushEntry {
                ts_ns: 0,
                line: String::new(),
                metadata: model::Labels::empty(),
            }));
        };
        let ts_ns = parse_ns(&ts).map_err(de::Error::custom)?;
        let line = seq
            .next_element_seed(StrSeed(MALFORMED_STRING))?
            .map(Cow::into_owned)
            .unwrap_or_default();
        let metadata = seq.next_element_seed(PairsSeed)?.unwrap_or_default();
        // Loki 2.8 ignores anything after the entry's known elements.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Some(PushEntry {
            ts_ns,
            line,
            metadata: metadata_from_pairs(
                metadata
                    .into_iter()
                    .map(|(n, v)| (n.into_owned(), v.into_owned())),
            ),
        }))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom(MALFORMED_ARRAY))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom(MALFORMED_ARRAY))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        match decode_json(body.as_bytes()) {
            Ok(r) => format!("ok: {r:?}"),
            Err(e) => e.message().to_owned(),
        }
    }

    #[test]
    fn truncated_stream_object() {
        assert_eq!(
            err(r#"{"streams":[{"#),
            "loghttp.PushRequest.Streams: []*loghttp.Stream: ReadObjectCB: expect \" after {, but found \0, error found in #10 byte of ...|treams\":[{|..., bigger context ...|{\"streams\":[{|..."
        );
    }

    #[test]
    fn walk_errors_keep_the_shape() {
        assert_eq!(
            err("x"),
            "loghttp.PushRequest.readObjectStart: expect { or n, but found x, error found in #1 byte of ...|x|..., bigger context ...|x|..."
        );
        assert!(err(r#"{"streams":[{"stream":{"a":"b"}}]"#).contains("isObjectEnd"));
    }

    #[test]
    fn entries_with_metadata() {
        let req = decode_json(
            br#"{"streams":[{"stream":{"job":"x","empty":""},"values":[["5","a"],["6","b",{"trace":"t1"}],null]}]}"#,
        )
        .unwrap();
        let s = &req.streams[0];
        assert_eq!(s.labels_text, r#"{job="x"}"#);
        assert_eq!(s.entries.len(), 2);
        assert_eq!(s.entries[1].metadata.get("trace"), Some("t1"));
    }

    #[test]
    fn bad_label_names_fail_as_text() {
        assert_eq!(
            err(r#"{"streams":[{"stream":{"1a":"x"},"values":[["5","a"]]}]}"#),
            "1:2: parse error: unexpected character inside braces: '1'"
        );
    }
}
