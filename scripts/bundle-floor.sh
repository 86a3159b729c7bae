#!/usr/bin/env bash
# The smallest bundle Leptos 0.8 can ship, measured the way `make bundle-size` measures ours.
#
# Builds two throw-away apps in target/bundle-floor/ with this workspace's Leptos versions
# (Cargo.lock is copied), its wasm profile (opt-level z, LTO, one codegen unit, panic = abort)
# and `--cfg erase_components`, then runs wasm-bindgen and `wasm-opt -Oz` as cargo-leptos does
# and compresses with brotli 11:
#   hydrate  a hydrated app: router with one route, one resource read under Suspense, one
#            ServerAction with an ActionForm (the inbox's building blocks, nothing else);
#   islands  the same list and form as one #[island] in an islands build (no client router).
# Prints `floor hydrate <bytes>` and `floor islands <bytes>` (wasm + JS, brotli). These are the
# baselines the inbox's own code adds to; docs/architecture.md ("The first load") uses them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_TAG=bundle-floor
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

for tool in wasm-bindgen brotli; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing; run scripts/setup.sh test"
done
WASM_OPT="$ROOT/scripts/binaryen/node_modules/.bin/wasm-opt"
[ -x "$WASM_OPT" ] || fail "$WASM_OPT is missing; run scripts/setup.sh"

WORK="$ROOT/target/bundle-floor"
LEPTOS_VERSION=$(awk '/^name = "leptos"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
[ -n "$LEPTOS_VERSION" ] || fail "no leptos in Cargo.lock"

# app NAME FEATURES — writes the crate target/bundle-floor/NAME.
app() {
  local name="$1" features="$2" dir="$WORK/$1"
  mkdir -p "$dir/src"
  cp Cargo.lock "$dir/Cargo.lock"
  cat >"$dir/Cargo.toml" <<EOF
[package]
name = "floor_$name"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
leptos = { version = "=$LEPTOS_VERSION", features = [$features] }
leptos_router = "0.8"
serde = { version = "1", features = ["derive"] }
wasm-bindgen = "=0.2.130"
console_error_panic_hook = "0.1"

[profile.release]
opt-level = 'z'
lto = true
codegen-units = 1
panic = "abort"

[workspace]
EOF
}

COMMON='
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row { pub id: i64, pub name: String, pub preview: String, pub unread: bool }

#[server(endpoint = "/rows")]
pub async fn rows() -> Result<Vec<Row>, ServerFnError> { Ok(vec![]) }

#[server(endpoint = "/mark")]
pub async fn mark(id: i64, note: String) -> Result<(), ServerFnError> { let _ = (id, note); Ok(()) }
'

app hydrate '"hydrate"'
cat >"$WORK/hydrate/src/lib.rs" <<EOF
$COMMON
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

#[component]
fn Page() -> impl IntoView {
    let act = ServerAction::<Mark>::new();
    let list = Resource::new(move || act.version().get(), |_| rows());
    view! {
        <Suspense fallback=|| "…">
            {move || Suspend::new(async move {
                let rows = list.await.unwrap_or_default();
                view! { <ul>{rows.into_iter().map(|r| view! { <li class:unread=r.unread>{r.name}" "{r.preview}</li> }).collect_view()}</ul> }
            })}
        </Suspense>
        <ActionForm action=act><input name="id"/><input name="note"/><button>"Go"</button></ActionForm>
    }
}

#[component]
pub fn App() -> impl IntoView {
    view! { <Router><Routes fallback=|| "Not found"><Route path=path!("/") view=Page/></Routes></Router> }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
EOF

app islands '"hydrate", "islands"'
cat >"$WORK/islands/src/lib.rs" <<EOF
$COMMON
#[island]
pub fn Live(initial: Vec<Row>) -> impl IntoView {
    let act = ServerAction::<Mark>::new();
    let (list, set_list) = signal(initial);
    Effect::new(move |_| {
        if act.version().get() > 0 {
            leptos::task::spawn_local(async move {
                if let Ok(r) = rows().await { set_list.set(r) }
            });
        }
    });
    view! {
        <ul>{move || list.get().into_iter().map(|r| view! { <li class:unread=r.unread>{r.name}" "{r.preview}</li> }).collect_view()}</ul>
        <ActionForm action=act><input name="id"/><input name="note"/><button>"Go"</button></ActionForm>
    }
}

#[component]
pub fn App() -> impl IntoView { view! { <main><Live initial=vec![]/></main> } }

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
EOF

for name in hydrate islands; do
  dir="$WORK/$name"
  log "building $name (release wasm)"
  (cd "$dir" && RUSTFLAGS="--cfg erase_components" CARGO_TARGET_DIR="$WORK/target" \
    cargo build --release --target wasm32-unknown-unknown --quiet)
  wasm-bindgen --target web --out-dir "$dir/pkg" "$WORK/target/wasm32-unknown-unknown/release/floor_$name.wasm"
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$dir/pkg/floor_${name}_bg.wasm" -o "$dir/pkg/opt.wasm"
  wasm=$(brotli -q 11 -c "$dir/pkg/opt.wasm" | wc -c)
  js=$(brotli -q 11 -c "$dir/pkg/floor_$name.js" | wc -c)
  printf '%-8s wasm %8d  js %6d  (raw wasm %d)\n' "$name" "$wasm" "$js" "$(wc -c <"$dir/pkg/opt.wasm")"
  echo "floor $name $((wasm + js))"
done
