//! The builtin adapter: offline, deterministic and honest. Vision decodes the real image (PNG,
//! JPEG or WebP) and reports its format, size and dominant colours; speech-to-text and
//! text-to-speech are in [`super::speech`]. Decoding runs on the blocking pool, so a large image
//! never stalls the runtime's async workers.

use std::io::Cursor;

use platform_sdk::multimodal_wire::Modality;
use serde_json::json;

use super::{artifact_of, round, speech, AdapterError, Input, Output};

/// Largest width or height decoded, pixels.
const MAX_SIDE: u32 = 16_384;
/// Most memory one decode may take, bytes.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// How many dominant colours are reported.
const TOP_COLOURS: usize = 5;

/// Runs a request with the builtin adapter.
pub async fn run(input: Input) -> Result<Output, AdapterError> {
    tokio::task::spawn_blocking(move || match input.modality {
        Modality::VisionAnalysis => vision(&input),
        Modality::SpeechToText => speech::analyse(&input),
        Modality::TextToSpeech => speech::synthesise(&input),
    })
    .await
    .map_err(|e| AdapterError::new(format!("the builtin adapter stopped: {e}")))?
}

/// A colour bucket: 3 bits per channel, with the sums that give its mean colour.
#[derive(Clone, Copy, Default)]
struct Bucket {
    count: u64,
    sum: [u64; 3],
}

/// The dominant colours of `pixels` (RGB triples): the most populated of 512 buckets (3 bits per
/// channel), each as the mean colour of its pixels with its share of the image.
pub fn dominant_colours(pixels: &[u8]) -> Vec<serde_json::Value> {
    let mut buckets = vec![Bucket::default(); 512];
    let mut total = 0u64;
    for px in pixels.chunks_exact(3) {
        let index = (usize::from(px[0] >> 5) << 6)
            | (usize::from(px[1] >> 5) << 3)
            | usize::from(px[2] >> 5);
        let b = &mut buckets[index];
        b.count += 1;
        for (sum, value) in b.sum.iter_mut().zip(px) {
            *sum += u64::from(*value);
        }
        total += 1;
    }
    let mut ranked: Vec<Bucket> = buckets.into_iter().filter(|b| b.count > 0).collect();
    ranked.sort_by_key(|b| std::cmp::Reverse(b.count));
    ranked
        .into_iter()
        .take(TOP_COLOURS)
        .map(|b| {
            let mean = b.sum.map(|s| ((s + b.count / 2) / b.count).min(255));
            json!({
                "hex": format!("#{:02x}{:02x}{:02x}", mean[0], mean[1], mean[2]),
                "rgb": mean,
                "share": round(b.count as f64 / total as f64, 4),
            })
        })
        .collect()
}

fn vision(input: &Input) -> Result<Output, AdapterError> {
    let (data, _) = artifact_of(input)?;
    let format = image::guess_format(data).map_err(|_| {
        AdapterError::new("the image is not a PNG, JPEG or WebP file the builtin adapter can read")
    })?;
    let name = match format {
        image::ImageFormat::Png => "png",
        image::ImageFormat::Jpeg => "jpeg",
        image::ImageFormat::WebP => "webp",
        other => {
            return Err(AdapterError::new(format!(
                "the builtin adapter reads PNG, JPEG and WebP images, not {}",
                other.extensions_str().first().unwrap_or(&"this format")
            )))
        }
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(data), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|e| AdapterError::new(format!("the {name} image could not be decoded: {e}")))?;
    let (width, height) = (decoded.width(), decoded.height());
    let colour_type = format!("{:?}", decoded.color()).to_lowercase();
    let rgb = decoded.into_rgb8();
    let colours = dominant_colours(rgb.as_raw());
    let listed: Vec<String> = colours
        .iter()
        .map(|c| {
            format!(
                "{} ({:.1}%)",
                c["hex"].as_str().unwrap_or_default(),
                c["share"].as_f64().unwrap_or_default() * 100.0
            )
        })
        .collect();
    let text = format!(
        "A {width}×{height} {} image; dominant colours: {}. The builtin adapter measures images; \
         it has no vision model to describe what they show.",
        name.to_uppercase(),
        listed.join(", ")
    );
    Ok(Output {
        text: Some(text),
        artifact: None,
        data: json!({
            "adapter": "builtin",
            "format": name,
            "width": width,
            "height": height,
            "colour_type": colour_type,
            "dominant_colours": colours,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominant_colours_are_means_with_shares() {
        // Three red pixels, one blue.
        let pixels = [255, 0, 0, 255, 0, 0, 250, 2, 0, 0, 0, 255];
        let colours = dominant_colours(&pixels);
        assert_eq!(colours.len(), 2);
        assert_eq!(colours[0]["hex"], "#fd0100");
        assert_eq!(colours[0]["share"], 0.75);
        assert_eq!(colours[1]["hex"], "#0000ff");
        assert_eq!(colours[1]["share"], 0.25);
    }
}
