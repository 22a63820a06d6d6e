//! freshtoken in a Yew app: log in, show the token's expiry (re-rendered on every
//! refresh), call any URL through the refresher's `fetch`, and go back to the login view
//! when the session expires. Built and driven in Chromium by tests/rust-apps/.
//!
//! It also sets its own `#[global_allocator]`: freshtoken's `web` feature brings none (the
//! npm package's allocator and exports are compiled only into the npm build), so the app's
//! choice stands and the page shows what it counts.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use freshtoken::web::{text, Event, Options, Preset, Refresher, StorageKind};
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, Request, RequestInit};
use yew::prelude::*;

/// The app's allocator: the system one (dlmalloc on wasm32), counting the bytes live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_add(new_size, Relaxed);
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The login call to the auth server (its JSON answer carries the tokens).
fn login_request() -> Request {
    let init = RequestInit::new();
    init.set_method("POST");
    Request::new_with_str_and_init("/auth/login", &init).expect("a valid URL")
}

/// "STATUS BODY" of a call through the refresher: Bearer attached for the page's origin,
/// a 401 refreshed and replayed once, nothing attached for any other origin.
async fn call(refresher: Refresher, url: String) -> String {
    match refresher.get(&url).await {
        Ok(res) => format!("{} {}", res.status(), text(&res).await.unwrap_or_default()),
        Err(e) => format!("error {e}"),
    }
}

#[function_component]
fn App() -> Html {
    // localStorage: the session survives a reload and is shared by this app's tabs (crossTab,
    // implied by a shared storage): one refresh call for all of them, logout reaching each.
    let refresher = use_memo((), |_| {
        let options = Options::default().storage(StorageKind::LocalStorage);
        Refresher::new(options.endpoint("/auth/refresh", Preset::Json)).expect("valid options")
    });
    let logged_in = use_state(|| refresher.current_token().is_some());
    let expires_at = use_state(|| refresher.expires_at());
    let refreshes = use_state(|| 0u32);
    let result = use_state(String::new);
    let url = use_node_ref();
    {
        let (r, logged_in, expires_at, refreshes) = (refresher.clone(), logged_in.setter(), expires_at.setter(), refreshes.setter());
        use_effect_with((), move |_| {
            let count = std::rc::Rc::new(std::cell::Cell::new(0));
            let subscription = r.on(move |event| match event {
                Event::Refreshed { expires_at: at } => {
                    expires_at.set(*at);
                    logged_in.set(true); // also a login in another tab
                    count.set(count.get() + 1);
                    refreshes.set(count.get());
                }
                Event::SessionExpired { .. } | Event::LoggedOut => logged_in.set(false),
                _ => {}
            });
            move || drop(subscription)
        });
    }

    let on_login = {
        let (r, logged_in, expires_at, result) = (refresher.clone(), logged_in.setter(), expires_at.setter(), result.setter());
        Callback::from(move |_| {
            let (r, logged_in, expires_at, result) = ((*r).clone(), logged_in.clone(), expires_at.clone(), result.clone());
            spawn_local(async move {
                match r.login(&login_request()).await {
                    Ok(()) => {
                        expires_at.set(r.expires_at());
                        logged_in.set(true);
                    }
                    Err(e) => result.set(format!("error {e}")),
                }
            });
        })
    };
    let on_call = {
        let (r, result, url) = (refresher.clone(), result.setter(), url.clone());
        Callback::from(move |_| {
            let target = url.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let (r, result) = ((*r).clone(), result.clone());
            spawn_local(async move { result.set(call(r, target).await) });
        })
    };

    let on_logout = {
        let r = refresher.clone();
        Callback::from(move |_| r.logout())
    };

    if !*logged_in {
        return html! { <section id="login-view"><h1>{"Log in"}</h1><button id="login" onclick={on_login}>{"Log in"}</button></section> };
    }
    html! {
        <section id="app-view">
            <p>{"Token expires at "}<span id="expires-at">{expires_at.map(|t| t.round().to_string()).unwrap_or_default()}</span></p>
            <p>{"Refreshes: "}<span id="refreshes">{*refreshes}</span></p>
            <p>{"Bytes live (the app's own allocator): "}<span id="heap">{LIVE.load(Relaxed)}</span></p>
            <input id="url" ref={url} value="/api/data" />
            <button id="call" onclick={on_call}>{"Call"}</button>
            <button id="logout" onclick={on_logout}>{"Log out"}</button>
            <pre id="result">{(*result).clone()}</pre>
        </section>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
