//! freshtoken in a Leptos app: log in, show the token's expiry (re-rendered on every
//! refresh), call any URL through the refresher's `fetch`, and go back to the login view
//! when the session expires. Built and driven in Chromium by tests/rust-apps/.
use freshtoken::web::{text, Event, Options, Preset, Refresher, StorageKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::{Request, RequestInit};

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

#[component]
fn App() -> impl IntoView {
    // localStorage: the session survives a reload and is shared by this app's tabs (crossTab,
    // implied by a shared storage): one refresh call for all of them, logout reaching each.
    let options = Options::default().storage(StorageKind::LocalStorage);
    let refresher = Refresher::new(options.endpoint("/auth/refresh", Preset::Json)).expect("valid options");
    let (logged_in, set_logged_in) = signal(refresher.current_token().is_some());
    let (expires_at, set_expires_at) = signal(refresher.expires_at());
    let (refreshes, set_refreshes) = signal(0u32);
    let (url, set_url) = signal(String::from("/api/data"));
    let (result, set_result) = signal(String::new());
    refresher
        .on(move |event| match event {
            Event::Refreshed { expires_at } => {
                set_expires_at.set(*expires_at);
                set_refreshes.update(|n| *n += 1);
                set_logged_in.set(true); // also a login in another tab
            }
            Event::SessionExpired { .. } | Event::LoggedOut => set_logged_in.set(false),
            _ => {}
        })
        .forget();
    let refresher = StoredValue::new_local(refresher);

    let on_login = move |_| {
        let r = refresher.get_value();
        spawn_local(async move {
            match r.login(&login_request()).await {
                Ok(()) => {
                    set_expires_at.set(r.expires_at());
                    set_logged_in.set(true);
                }
                Err(e) => set_result.set(format!("error {e}")),
            }
        });
    };
    let on_logout = move |_| refresher.get_value().logout();
    let on_call = move |_| {
        let r = refresher.get_value();
        spawn_local(async move { set_result.set(call(r, url.get_untracked()).await) });
    };

    view! {
        <Show
            when=move || logged_in.get()
            fallback=move || view! { <section id="login-view"><h1>"Log in"</h1><button id="login" on:click=on_login>"Log in"</button></section> }
        >
            <section id="app-view">
                <p>"Token expires at " <span id="expires-at">{move || expires_at.get().map(|t| t.round().to_string()).unwrap_or_default()}</span></p>
                <p>"Refreshes: " <span id="refreshes">{move || refreshes.get()}</span></p>
                <input id="url" prop:value=move || url.get() on:input=move |ev| set_url.set(event_target_value(&ev)) />
                <button id="call" on:click=on_call>"Call"</button>
                <button id="logout" on:click=on_logout>"Log out"</button>
                <pre id="result">{move || result.get()}</pre>
            </section>
        </Show>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
