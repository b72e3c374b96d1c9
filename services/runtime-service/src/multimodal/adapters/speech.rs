//! The builtin adapter's audio: it measures a real WAV file (speech-to-text) and renders text as
//! a real WAV file (text-to-speech). It has no speech model and says so: a "transcript" from it
//! would be invented, so it reports what it measured instead.
//!
//! Measurements: duration, sample rate, channels, bits, overall loudness (RMS and peak, dBFS) and
//! speech/silence segments from the energy of 20 ms windows (a window louder than
//! [`SPEECH_DBFS`] is speech; neighbouring windows of one kind are one segment). Synthesis is
//! deterministic: each letter or digit a short tone whose pitch follows the character, a space
//! a short pause, punctuation a longer one, so the audio's length follows the text's.

use std::f64::consts::PI;
use std::io::Cursor;

use serde_json::json;

use super::{artifact_of, round, AdapterError, Input, Output};

/// A window louder than this (RMS, dBFS) is speech.
pub const SPEECH_DBFS: f64 = -40.0;
/// Windows per second (20 ms each).
const WINDOWS_PER_SECOND: u32 = 50;
/// The quietest level reported, dBFS (digital silence).
const FLOOR_DBFS: f64 = -120.0;
/// Sample rate of rendered speech.
pub const TTS_SAMPLE_RATE: u32 = 16_000;
/// Length of one character's tone, seconds.
const TONE_SECONDS: f64 = 0.09;
/// Length of a space's pause, seconds.
const SPACE_SECONDS: f64 = 0.06;
/// Length of a punctuation mark's pause, seconds.
const STOP_SECONDS: f64 = 0.2;

fn dbfs(rms: f64) -> f64 {
    if rms <= 0.0 {
        FLOOR_DBFS
    } else {
        (20.0 * rms.log10()).max(FLOOR_DBFS)
    }
}

/// Reads every frame of a WAV file as mono samples in -1.0..=1.0, with its spec.
fn frames(data: &[u8]) -> Result<(hound::WavSpec, Vec<f64>), AdapterError> {
    let reader = hound::WavReader::new(Cursor::new(data)).map_err(|e| {
        AdapterError::new(format!(
            "the audio is not a WAV file the builtin adapter can read ({e})"
        ))
    })?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(AdapterError::new(
            "the WAV file has no channels or no sample rate",
        ));
    }
    let bad = |e: hound::Error| AdapterError::new(format!("the WAV data could not be read ({e})"));
    let samples: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .map(|s| s.map(f64::from))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        hound::SampleFormat::Int => {
            let full_scale = f64::from(1u32 << (spec.bits_per_sample.clamp(1, 32) - 1));
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| f64::from(v) / full_scale))
                .collect::<Result<_, _>>()
                .map_err(bad)?
        }
    };
    let channels = usize::from(spec.channels);
    let mono = samples
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f64>() / channels as f64)
        .collect();
    Ok((spec, mono))
}

fn rms(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt()
}

/// Measures a WAV file: what the builtin "speech-to-text" answers.
pub fn analyse(input: &Input) -> Result<Output, AdapterError> {
    let (data, _) = artifact_of(input)?;
    let (spec, mono) = frames(data)?;
    let rate = f64::from(spec.sample_rate);
    let window = (spec.sample_rate / WINDOWS_PER_SECOND).max(1) as usize;
    let mut segments: Vec<(bool, usize, usize)> = Vec::new();
    for (i, chunk) in mono.chunks(window).enumerate() {
        let speech = dbfs(rms(chunk)) > SPEECH_DBFS;
        let (start, end) = (i * window, i * window + chunk.len());
        match segments.last_mut() {
            Some((kind, _, last_end)) if *kind == speech => *last_end = end,
            _ => segments.push((speech, start, end)),
        }
    }
    let seconds = |frames: usize| round(frames as f64 / rate, 3);
    let speech_count = segments.iter().filter(|s| s.0).count();
    let speech_seconds: usize = segments.iter().filter(|s| s.0).map(|s| s.2 - s.1).sum();
    let listed: Vec<serde_json::Value> = segments
        .iter()
        .map(|(speech, start, end)| {
            json!({
                "kind": if *speech { "speech" } else { "silence" },
                "start_seconds": seconds(*start),
                "end_seconds": seconds(*end),
            })
        })
        .collect();
    let duration = seconds(mono.len());
    let peak = mono.iter().fold(0.0f64, |m, s| m.max(s.abs()));
    let text = format!(
        "No transcript: the builtin adapter has no speech recognition model. It measured \
         {duration:.3} s of audio with {speech_count} speech segment(s) ({:.3} s) and {} silent \
         one(s).",
        seconds(speech_seconds),
        segments.len() - speech_count
    );
    Ok(Output {
        text: Some(text),
        artifact: None,
        data: json!({
            "adapter": "builtin",
            "transcript": null,
            "duration_seconds": duration,
            "sample_rate": spec.sample_rate,
            "channels": spec.channels,
            "bits_per_sample": spec.bits_per_sample,
            "loudness_dbfs": round(dbfs(rms(&mono)), 2),
            "peak_dbfs": round(dbfs(peak), 2),
            "speech_threshold_dbfs": SPEECH_DBFS,
            "speech_seconds": seconds(speech_seconds),
            "segments": listed,
        }),
    })
}

/// The tone of a character, Hz (letters and digits spread over two octaves), or `None` for a
/// pause of that many seconds.
fn voice_of(c: char) -> Result<f64, f64> {
    if c.is_whitespace() {
        return Err(SPACE_SECONDS);
    }
    if matches!(c, '.' | ',' | '!' | '?' | ';' | ':') {
        return Err(STOP_SECONDS);
    }
    let step = match c.to_ascii_lowercase() {
        l @ 'a'..='z' => u32::from(l) - u32::from('a'),
        d @ '0'..='9' => u32::from(d) - u32::from('0') + 26,
        other => u32::from(other) % 36,
    };
    Ok(220.0 * 2f64.powf(f64::from(step) / 18.0))
}

/// Renders text as a WAV: what the builtin "text-to-speech" answers.
pub fn synthesise(input: &Input) -> Result<Output, AdapterError> {
    let text = input.text.as_deref().unwrap_or_default();
    let rate = f64::from(TTS_SAMPLE_RATE);
    let mut samples: Vec<i16> = Vec::new();
    for c in text.chars() {
        let (seconds, tone) = match voice_of(c) {
            Ok(hz) => (TONE_SECONDS, Some(hz)),
            Err(pause) => (pause, None),
        };
        let n = (seconds * rate).round() as usize;
        let edge = (0.01 * rate) as usize;
        for i in 0..n {
            let value = match tone {
                None => 0.0,
                Some(hz) => {
                    let t = i as f64 / rate;
                    // A fundamental and a softer "formant" an octave and a fifth up, with 10 ms
                    // fades so characters do not click.
                    let envelope = (i.min(n - i) as f64 / edge as f64).min(1.0);
                    envelope
                        * (0.3 * (2.0 * PI * hz * t).sin() + 0.1 * (2.0 * PI * hz * 3.0 * t).sin())
                }
            };
            samples.push((value * f64::from(i16::MAX)).round() as i16);
        }
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: TTS_SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let write = |e: hound::Error| AdapterError::new(format!("the WAV could not be written ({e})"));
    {
        let mut writer = hound::WavWriter::new(&mut out, spec).map_err(write)?;
        for s in &samples {
            writer.write_sample(*s).map_err(write)?;
        }
        writer.finalize().map_err(write)?;
    }
    let duration = round(samples.len() as f64 / rate, 3);
    let characters = text.chars().count();
    Ok(Output {
        text: Some(format!(
            "Rendered {characters} characters as {duration:.3} s of synthetic tones (one per \
             letter or digit, pauses for spaces and punctuation); the builtin adapter has no \
             voice model."
        )),
        artifact: Some((out.into_inner(), "audio/wav".to_owned())),
        data: json!({
            "adapter": "builtin",
            "duration_seconds": duration,
            "sample_rate": TTS_SAMPLE_RATE,
            "channels": 1,
            "characters": characters,
            "words": text.split_whitespace().count(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use platform_sdk::multimodal_wire::Modality;

    use super::*;

    fn wav(parts: &[(f64, bool)]) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
        for (seconds, loud) in parts {
            for i in 0..(seconds * 8000.0) as usize {
                let v = if *loud {
                    (i as f64 * 0.3).sin() * 10_000.0
                } else {
                    0.0
                };
                w.write_sample(v as i16).unwrap();
            }
        }
        w.finalize().unwrap();
        out.into_inner()
    }

    #[test]
    fn segments_follow_the_energy() {
        let input = Input {
            modality: Modality::SpeechToText,
            text: None,
            artifact: Some((
                wav(&[(0.5, true), (0.3, false), (0.2, true)]),
                "audio/wav".into(),
            )),
        };
        let out = analyse(&input).unwrap();
        assert_eq!(out.data["duration_seconds"], 1.0);
        let kinds: Vec<_> = out.data["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["kind"].as_str().unwrap().to_owned(),
                    s["start_seconds"].as_f64().unwrap(),
                    s["end_seconds"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("speech".into(), 0.0, 0.5),
                ("silence".into(), 0.5, 0.8),
                ("speech".into(), 0.8, 1.0)
            ]
        );
    }

    #[test]
    fn longer_text_renders_longer_audio() {
        let render = |t: &str| {
            let input = Input {
                modality: Modality::TextToSpeech,
                text: Some(t.into()),
                artifact: None,
            };
            synthesise(&input).unwrap().data["duration_seconds"]
                .as_f64()
                .unwrap()
        };
        assert_eq!(render("hi"), 0.18);
        assert_eq!(render("hi there."), 0.89);
    }
}
