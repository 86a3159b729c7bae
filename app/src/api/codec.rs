//! The response encoding of the server functions that return data: JSON, as the default, but
//! decoded from text in the browser. A resource's value arrives in the page as text and is
//! decoded with `serde_json::from_str`; the default encoding decodes a response with
//! `from_slice`, and each response type's deserializer would be compiled into the bundle twice,
//! once per reader. With this one it is compiled once.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON, written as bytes and read as text.
pub struct JsonTextEncoding;

/// `output = JsonText` on a server function that returns data.
pub type JsonText = Post<JsonTextEncoding>;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_bad_text() {
        let bytes =
            <JsonTextEncoding as Encodes<Vec<(i64, String)>>>::encode(&vec![(1, "é".into())])
                .unwrap();
        let back: Vec<(i64, String)> = JsonTextEncoding::decode(bytes).unwrap();
        assert_eq!(back, vec![(1, "é".to_string())]);
        let bad = <JsonTextEncoding as Decodes<String>>::decode(Bytes::from_static(b"\"\xff\""));
        assert!(bad.is_err(), "invalid UTF-8 is an error, not a panic");
    }
}
