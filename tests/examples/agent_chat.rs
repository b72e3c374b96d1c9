//! A tiny command-line client for the agent socket, used in the README walkthrough:
//!
//! ```text
//! cargo run -q -p e2e-tests --example agent_chat -- <access_token> "I want to upload our sales files"
//! cargo run -q -p e2e-tests --example agent_chat -- <access_token> --liaison operations "map our onboarding process"
//! cargo run -q -p e2e-tests --example agent_chat -- <access_token> --agent wrp_… "how do I file an invoice?"
//! ```
//!
//! It connects to `ws://127.0.0.1:8001/api/runtime/agent` (override with `AGENT_URL`), sends one
//! turn, prints every frame as it arrives, and exits after the execution ends.

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: agent_chat <access_token> [--liaison <pillar> | --agent <wrp_id>] <message>";
    if args.len() < 2 {
        anyhow::bail!(usage);
    }
    let token = args.remove(0);
    let (agent_type, metadata) = match args.first().map(String::as_str) {
        Some("--liaison") if args.len() > 2 => {
            args.remove(0);
            ("liaison", Some(json!({"pillar": args.remove(0)})))
        }
        Some("--agent") if args.len() > 2 => {
            args.remove(0);
            ("specialist", Some(json!({"agent_id": args.remove(0)})))
        }
        _ => ("guide", None),
    };
    let text = args.join(" ");
    anyhow::ensure!(!text.is_empty(), usage);
    let base = std::env::var("AGENT_URL")
        .unwrap_or_else(|_| "ws://127.0.0.1:8001/api/runtime/agent".into());
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("{base}?access_token={token}")).await?;
    let mut intent = json!({"type": "intent", "intent": text, "agent_type": agent_type});
    if let Some(metadata) = metadata {
        intent["metadata"] = metadata;
    }
    let mut sent = false;
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let frame: Value = serde_json::from_str(&text)?;
        let kind = frame["event_type"]
            .as_str()
            .or(frame["type"].as_str())
            .unwrap_or("?")
            .to_owned();
        match kind.as_str() {
            "AGENT_RESPONSE_DELTA" => {
                print!("{}", frame["data"]["delta"].as_str().unwrap_or_default());
                continue;
            }
            "AGENT_RESPONSE" => println!(),
            _ => {}
        }
        println!("[{} #{}] {}", kind, frame["event_id"], frame["data"]);
        if !sent {
            socket.send(Message::Text(intent.to_string())).await?;
            sent = true;
        }
        if matches!(
            kind.as_str(),
            "EXECUTION_COMPLETED" | "EXECUTION_FAILED" | "EXECUTION_CANCELLED" | "error"
        ) {
            break;
        }
    }
    socket.close(None).await?;
    Ok(())
}
