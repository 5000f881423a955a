//! Authentication glue: the md5 answer and the client's side of SCRAM-SHA-256 (RFC 5802/7677).
//! The crypto is `md-5`, `sha2`, `hmac`, `pbkdf2` and `base64`; this is only the message exchange.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

use super::printable;
use crate::function::ErrorKind;
use crate::net::ServiceError;
use crate::rng::SplitMix64;

/// Most PBKDF2 iterations a server may ask for (PostgreSQL's default is 4096); more would let a
/// hostile server spin the worker until the deadline.
pub const MAX_ITERATIONS: u32 = 100_000;

type HmacSha256 = Hmac<Sha256>;

/// `md5(md5(password + user) + salt)` as lowercase hex, PostgreSQL's md5 answer without its prefix.
pub fn md5_password(user: &str, password: &str, salt: &[u8]) -> heapless::String<32> {
    let inner: heapless::String<32> =
        crate::hex::encode(&Md5::new().chain_update(password).chain_update(user).finalize());
    crate::hex::encode(&Md5::new().chain_update(inner.as_bytes()).chain_update(salt).finalize())
}

/// The client's side of one SCRAM-SHA-256 exchange (no channel binding: `n,,`).
pub struct Scram {
    nonce: heapless::String<24>,
    /// The server's signature expected in server-final, computed with the proof.
    server_signature: [u8; 32],
    /// Whether server-final carried that signature.
    pub verified: bool,
}

/// Longest client-final message: `c=biws,r=` + the combined nonce + `,p=` + 44 bytes of proof.
const CLIENT_FINAL: usize = 256;

impl Scram {
    pub fn new(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut raw = [0u8; 18];
        for chunk in raw.chunks_mut(8) {
            let bytes = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        let mut text = [0u8; 24];
        let n = BASE64.encode_slice(raw, &mut text).unwrap_or(0);
        let mut nonce = heapless::String::new();
        let _ = nonce.push_str(core::str::from_utf8(&text[..n]).unwrap_or(""));
        Scram { nonce, server_signature: [0; 32], verified: false }
    }

    /// `n,,` + client-first-bare. PostgreSQL takes the user from the StartupMessage, so `n=` is empty.
    pub fn client_first(&self) -> heapless::String<40> {
        let mut s = heapless::String::new();
        let _ = s.push_str("n,,n=,r=");
        let _ = s.push_str(&self.nonce);
        s
    }

    /// Reads server-first (`r=<nonce>,s=<salt>,i=<iterations>`), computes the proof and the
    /// server signature to expect, and returns client-final.
    pub fn client_final(
        &mut self,
        server_first: &[u8],
        password: &str,
    ) -> Result<heapless::String<CLIENT_FINAL>, ServiceError> {
        let garbled =
            || ServiceError::protocol("protocol error: malformed SCRAM server-first").with_server_text(server_first);
        let text = core::str::from_utf8(server_first).map_err(|_| garbled())?;
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for attr in text.split(',') {
            match attr.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = v.parse::<u32>().ok(),
                _ => {}
            }
        }
        let (nonce, salt, iterations) = match (nonce, salt, iterations) {
            (Some(n), Some(s), Some(i)) if n.starts_with(self.nonce.as_str()) && (1..=MAX_ITERATIONS).contains(&i) => {
                (n, s, i)
            }
            _ => return Err(garbled()),
        };
        let mut salt_bytes = [0u8; 64];
        let salt_len = BASE64.decode_slice(salt, &mut salt_bytes).map_err(|_| garbled())?;

        // SASLprep is not applied: passwords are taken as their UTF-8 bytes, as PostgreSQL does
        // for passwords that are not valid SASLprep input and identical for ASCII ones.
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt_bytes[..salt_len], iterations, &mut salted);
        let client_key = hmac(&salted, &[b"Client Key"]);
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let mut final_message = heapless::String::<CLIENT_FINAL>::new();
        let too_long = || ServiceError::protocol("protocol error: SCRAM nonce too long");
        final_message.push_str("c=biws,r=").map_err(|_| too_long())?;
        final_message.push_str(nonce).map_err(|_| too_long())?;
        let first_bare = &self.client_first()[3..];
        let auth: [&[u8]; 5] = [first_bare.as_bytes(), b",", server_first, b",", final_message.as_bytes()];
        let signature = hmac(&stored_key, &auth);
        let mut proof = client_key;
        for (p, s) in proof.iter_mut().zip(signature) {
            *p ^= s;
        }
        self.server_signature = hmac(&hmac(&salted, &[b"Server Key"]), &auth);
        let mut encoded = [0u8; 44];
        let n = BASE64.encode_slice(proof, &mut encoded).map_err(|_| too_long())?;
        final_message.push_str(",p=").map_err(|_| too_long())?;
        final_message.push_str(core::str::from_utf8(&encoded[..n]).unwrap_or("")).map_err(|_| too_long())?;
        Ok(final_message)
    }

    /// Checks server-final (`v=<signature>`): a server that cannot prove it knows the password is
    /// not the one configured.
    pub fn verify_server(&self, server_final: &[u8]) -> Result<(), ServiceError> {
        let mut expected = [0u8; 44];
        let n = BASE64.encode_slice(self.server_signature, &mut expected).unwrap_or(0);
        match server_final.strip_prefix(b"v=") {
            Some(v) if v == &expected[..n] => Ok(()),
            _ => Err(ServiceError::new(ErrorKind::AuthFailed, "auth failed: the server's SCRAM signature is wrong")
                .with_server_text(printable(server_final))),
        }
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length; the error case cannot happen.
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(key) else { return [0; 32] };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_answer_matches_postgres() {
        // md5 of "md5" + md5("secret" + "alice") + salt, as computed by PostgreSQL's pg_md5_encrypt.
        let inner: heapless::String<32> = crate::hex::encode(&Md5::digest(b"secretalice"));
        let expected: heapless::String<32> =
            crate::hex::encode(&Md5::new().chain_update(inner.as_bytes()).chain_update([1, 2, 3, 4]).finalize());
        assert_eq!(md5_password("alice", "secret", &[1, 2, 3, 4]), expected);
    }

    /// RFC 7677's example, with its client nonce.
    #[test]
    fn scram_matches_rfc_7677() {
        let mut s = Scram { nonce: heapless::String::new(), server_signature: [0; 32], verified: false };
        s.nonce.push_str("rOprNGfwEbeRWgbNEkqO").unwrap();
        // RFC 7677 uses n=user; PostgreSQL sends n= empty, so check the RFC's arithmetic by hand.
        assert_eq!(s.client_first().as_str(), "n,,n=,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let f = s.client_final(server_first, "pencil").unwrap();
        assert!(f.starts_with("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p="), "{f}");
        assert!(s.verify_server(b"v=wrong").is_err());
    }

    #[test]
    fn scram_refuses_a_foreign_nonce_or_too_many_iterations() {
        let mut s = Scram::new(7);
        for bad in [&b"r=other,s=QQ==,i=4096"[..], b"garbage", b"r=,s=,i="] {
            assert_eq!(s.client_final(bad, "pw").unwrap_err().kind, ErrorKind::ProtocolError);
        }
        let mut first = heapless::String::<80>::new();
        first.push_str("r=").unwrap();
        first.push_str(&s.nonce.clone()).unwrap();
        first.push_str("x,s=QQ==,i=999999999").unwrap();
        assert_eq!(s.client_final(first.as_bytes(), "pw").unwrap_err().kind, ErrorKind::ProtocolError);
    }
}
