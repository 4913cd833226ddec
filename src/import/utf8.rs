//! A reader that lets only UTF-8 through, and says at which byte it is not.
//!
//! serde_json checks the strings it decodes but not those it skips, and
//! reports a position as line and column; an input that is not UTF-8 is
//! better named by its byte offset. This sits under the `BufReader`, so it
//! sees the input in large chunks (validation costs little next to parsing).

use std::fmt;
use std::io::{self, Read};

/// The error an input that is not UTF-8 gives (inside an `io::Error`).
#[derive(Debug)]
pub(crate) struct NotUtf8 {
    pub offset: u64,
    pub byte: u8,
}

impl fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "not UTF-8: byte 0x{:02x} at byte offset {} (JSON traces are UTF-8 text)",
            self.byte, self.offset
        )
    }
}

impl std::error::Error for NotUtf8 {}

pub(crate) struct Utf8Checked<R> {
    inner: R,
    /// The bytes of a character cut by the end of the last read (at most 3).
    carry: [u8; 4],
    carried: usize,
    /// Bytes handed on so far.
    offset: u64,
}

impl<R: Read> Utf8Checked<R> {
    pub fn new(inner: R) -> Utf8Checked<R> {
        Utf8Checked {
            inner,
            carry: [0; 4],
            carried: 0,
            offset: 0,
        }
    }

    fn fail(&self, at: usize, buf: &[u8]) -> io::Error {
        let error = NotUtf8 {
            offset: self.offset + at as u64,
            byte: buf[at],
        };
        io::Error::new(io::ErrorKind::InvalidData, error)
    }
}

impl<R: Read> Read for Utf8Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // A carried character's 3 bytes and one more must fit (a BufReader's buffer does).
        assert!(buf.len() >= 4, "read through a BufReader");
        let c = self.carried;
        buf[..c].copy_from_slice(&self.carry[..c]);
        let read = self.inner.read(&mut buf[c..])?;
        let n = c + read;
        match std::str::from_utf8(&buf[..n]) {
            Ok(_) => {
                self.carried = 0;
                self.offset += n as u64;
                Ok(n)
            }
            Err(e) if e.error_len().is_none() && read > 0 => {
                let good = e.valid_up_to();
                self.carried = n - good;
                self.carry[..self.carried].copy_from_slice(&buf[good..n]);
                self.offset += good as u64;
                if good == 0 {
                    // Only part of a character so far: read on.
                    return self.read(buf);
                }
                Ok(good)
            }
            Err(e) => Err(self.fail(e.valid_up_to(), buf)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Read};

    use super::{NotUtf8, Utf8Checked};

    /// Hands out its bytes `step` at a time, so characters are cut across reads.
    struct Chunks<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Byte by byte through a small BufReader, as serde_json's reader takes them.
    fn read_all(data: &[u8], step: usize) -> Result<Vec<u8>, (u64, u8)> {
        BufReader::with_capacity(8, Utf8Checked::new(Chunks { data, step }))
            .bytes()
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|e| {
                let e = e.into_inner().unwrap().downcast::<NotUtf8>().unwrap();
                (e.offset, e.byte)
            })
    }

    #[test]
    fn characters_cut_across_reads_are_carried_whole() {
        // 1-, 2-, 3- and 4-byte characters, cut at every place by reads of 1 to 5 bytes.
        let text = "{\"name\":\"é€𝄞x\"}".repeat(3);
        for step in 1..=5 {
            assert_eq!(read_all(text.as_bytes(), step).unwrap(), text.as_bytes());
        }
    }

    #[test]
    fn a_bad_byte_is_named_by_its_offset_after_a_carry() {
        // "aé" then 0xff: the bad byte is at offset 3, whatever the reads.
        let data = [b'a', 0xc3, 0xa9, 0xff, b'b'];
        for step in 1..=5 {
            assert_eq!(read_all(&data, step), Err((3, 0xff)), "step {step}");
        }
        // A character cut by the end of the input: its first byte is named.
        let cut = [b'a', b'b', 0xe2, 0x82];
        for step in 1..=4 {
            assert_eq!(read_all(&cut, step), Err((2, 0xe2)), "step {step}");
        }
    }
}
