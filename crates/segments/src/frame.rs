//! Frames: `[payload length: u32 LE][CRC32 of payload: u32 LE][payload]`, written in place and read back checked.

/// Bytes of the frame header (length + CRC32).
pub const FRAME_HEADER: usize = 8;

/// Starts a frame at the end of `out`: reserves its header and returns
/// where the frame starts. Append the payload, then call [`end_frame`].
pub fn begin_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER]);
    start
}

/// Fills in the header of the frame begun at `start`, now that its payload
/// is everything behind it (no copy of the payload). The caller keeps
/// payloads below 4 GiB: the length has 32 bits.
///
/// # Panics
///
/// If `start` is past the end of `out` less a header: a misuse of
/// [`begin_frame`], never a matter of data read from disk.
pub fn end_frame(out: &mut [u8], start: usize) {
    let (header, payload) = out[start..].split_at_mut(FRAME_HEADER);
    header[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    header[4..].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
}

/// What the reader found at some offset of a framed file.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A complete frame with a good checksum; `len` counts the header.
    Ok {
        /// The payload.
        payload: &'a [u8],
        /// Bytes of the whole frame, header included.
        len: usize,
    },
    /// Clean end of the data.
    End,
    /// A short, torn or corrupt frame; why, for the warning.
    Corrupt(&'static str),
}

/// Reads the frame at the start of `data`.
pub fn read_frame(data: &[u8]) -> Frame<'_> {
    if data.is_empty() {
        return Frame::End;
    }
    let Some((header, rest)) = data.split_first_chunk::<FRAME_HEADER>() else {
        return Frame::Corrupt("short frame header");
    };
    let [l0, l1, l2, l3, c0, c1, c2, c3] = *header;
    let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
    let crc = u32::from_le_bytes([c0, c1, c2, c3]);
    if len == 0 {
        return Frame::Corrupt("zero-length frame");
    }
    let Some(payload) = rest.get(..len) else {
        return Frame::Corrupt("frame longer than the data left");
    };
    if crc32fast::hash(payload) != crc {
        return Frame::Corrupt("checksum mismatch");
    }
    Frame::Ok {
        payload,
        len: FRAME_HEADER + len,
    }
}

/// How far the good frames of some data go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// Bytes of whole, good frames from the start, all accepted.
    pub valid: usize,
    /// Why the frame at `valid` is not, if the data goes on.
    pub problem: Option<&'static str>,
}

/// Hands the payload of each frame of `data` to `each`, in order, until the
/// end, a frame that is short or fails its checksum, or a payload that
/// `each` refuses (its `Err` says why).
pub fn scan_frames<'a>(
    data: &'a [u8],
    mut each: impl FnMut(&'a [u8]) -> Result<(), &'static str>,
) -> Scan {
    let mut valid = 0;
    loop {
        let problem = match read_frame(&data[valid..]) {
            Frame::End => None,
            Frame::Corrupt(why) => Some(why),
            Frame::Ok { payload, len } => match each(payload) {
                Ok(()) => {
                    valid += len;
                    continue;
                }
                Err(why) => Some(why),
            },
        };
        return Scan { valid, problem };
    }
}

/// `payloads` framed one after the other, for tests.
#[cfg(test)]
pub(crate) fn framed(payloads: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in payloads {
        let start = begin_frame(&mut out);
        out.extend_from_slice(p);
        end_frame(&mut out, start);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_bytes_are_length_crc_payload() {
        let out = framed(&[b"abc"]);
        let mut want = 3u32.to_le_bytes().to_vec();
        want.extend_from_slice(&crc32fast::hash(b"abc").to_le_bytes());
        want.extend_from_slice(b"abc");
        assert_eq!(out, want);
    }

    #[test]
    fn frame_errors() {
        let out = framed(&[b"payload"]);
        assert_eq!(read_frame(&[]), Frame::End);
        assert_eq!(read_frame(&out[..5]), Frame::Corrupt("short frame header"));
        assert_eq!(
            read_frame(&out[..out.len() - 1]),
            Frame::Corrupt("frame longer than the data left")
        );
        let mut flipped = out.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x10;
        assert_eq!(read_frame(&flipped), Frame::Corrupt("checksum mismatch"));
        assert_eq!(read_frame(&[0; 12]), Frame::Corrupt("zero-length frame"));
    }

    #[test]
    fn scan_stops_at_a_torn_or_refused_frame() {
        let out = framed(&[b"one", b"two", b"three"]);
        let mut seen = Vec::new();
        let scan = scan_frames(&out, |p| {
            seen.push(p.to_vec());
            Ok(())
        });
        assert_eq!(seen.len(), 3);
        assert_eq!(
            scan,
            Scan {
                valid: out.len(),
                problem: None
            }
        );
        let torn = scan_frames(&out[..out.len() - 2], |_| Ok(()));
        assert_eq!(torn.valid, 2 * (FRAME_HEADER + 3));
        assert_eq!(torn.problem, Some("frame longer than the data left"));
        let refused = scan_frames(&out, |p| if p == b"two" { Err("no") } else { Ok(()) });
        assert_eq!(
            refused,
            Scan {
                valid: FRAME_HEADER + 3,
                problem: Some("no")
            }
        );
    }
}
