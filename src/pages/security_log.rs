//! Settings > Security log: the account's events, newest first, 50 at a time, with
//! filters in the URL (`?category=mfa&from=2026-11-01&to=2026-11-24`) and exports.
use crate::api::security_log::security_log;
use crate::components::{focus_when_present, ExactTime};
use crate::model::security_log::{Category, LogEntry, LogFilter, LogPage, Outcome};
use crate::model::time::{parse_day, utc_midnight};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

/// Midnight at the start of a day: in the browser's time zone once the page is live,
/// UTC before (the server does not know the zone).
fn midnight(day: &str, local: bool) -> Option<i64> {
    let (y, m, d) = parse_day(day)?;
    #[cfg(feature = "hydrate")]
    if local {
        let date = leptos::web_sys::js_sys::Date::new_with_year_month_day(
            y as u32,
            m as i32 - 1,
            d as i32,
        );
        let ms = date.get_time();
        return ms.is_finite().then(|| (ms / 1000.0).floor() as i64);
    }
    let _ = local;
    Some(utc_midnight(y, m, d))
}

/// The day after a "YYYY-MM-DD" (the range's end is the whole "to" day).
fn next_day(day: &str) -> Option<String> {
    let (y, m, d) = parse_day(day)?;
    let (ny, nm, nd) = crate::model::time::civil(utc_midnight(y, m, d) + 86_400);
    Some(format!("{ny:04}-{nm:02}-{nd:02}"))
}

#[component]
pub fn SecurityLogPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name).filter(|v| !v.is_empty()));
    // Days are read in the browser's zone once the page is live.
    let local = RwSignal::new(false);
    Effect::new(move |_| local.set(true));
    let filter = Memo::new(move |_| {
        let local = local.get();
        LogFilter {
            category: param("category"),
            from: param("from").and_then(|d| midnight(&d, local)),
            until: param("to")
                .and_then(|d| next_day(&d))
                .and_then(|d| midnight(&d, local)),
        }
    });
    let first = Resource::new(
        move || filter.get(),
        |f| security_log(f.category, f.from, f.until, None),
    );
    // Pages after the first ("Load more"), and where the next one starts.
    let more = RwSignal::new(Vec::<LogEntry>::new());
    let cursor = RwSignal::new(None::<Option<String>>);
    // What the last "Load more" brought, for screen readers (and where the focus goes
    // when the button is gone).
    let status = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        filter.track();
        more.set(Vec::new());
        cursor.set(None);
        status.set(None);
    });
    // Each answer carries the filter it was asked under: one that arrives after the
    // filter changed belongs to a list no longer shown, and is dropped.
    let load_more = Action::new(move |after: &String| {
        let f = filter.get_untracked();
        let after = after.clone();
        async move {
            let page = security_log(f.category.clone(), f.from, f.until, Some(after)).await;
            (f, page)
        }
    });
    Effect::new(move |_| {
        let Some((asked, Ok(page))) = load_more.value().get() else {
            return;
        };
        if asked != filter.get_untracked() {
            return;
        }
        let LogPage { entries, next } = page;
        let n = entries.len();
        let shown = if n == 1 {
            "1 more event shown.".to_string()
        } else {
            format!("{n} more events shown.")
        };
        let last = next.is_none();
        more.update(|m| m.extend(entries));
        cursor.set(Some(next));
        if last {
            status.set(Some(format!("{shown} That is all of them.")));
            focus_when_present("log-status");
        } else {
            status.set(Some(shown));
        }
    });
    let load_error = move || match load_more.value().get() {
        Some((_, Err(e))) => Some(e),
        _ => None,
    };
    let export_href = move |format: &str| {
        let q = filter.get().query();
        if q.is_empty() {
            format!("/api/security-log/export?format={format}")
        } else {
            format!("/api/security-log/export?format={format}&{q}")
        }
    };
    let chosen = move || param("category").unwrap_or_default();
    view! {
        <Title text="Security log · Latchkey"/>
        <h1>"Security log"</h1>
        <p class="lead">"Sign-ins, password and two-factor changes and session activity on your account, newest first."</p>
        <section class="card" aria-labelledby="filters-title">
            <h2 id="filters-title" class="sr-only">"Filters"</h2>
            <Form method="get" action="/settings/security-log">
                <div class="filters">
                    <div class="field">
                        <label for="log-category">"Category"</label>
                        <select id="log-category" name="category">
                            <option value="" selected=move || chosen().is_empty()>"All events"</option>
                            {Category::ALL.into_iter().map(|c| view! {
                                <option value=c.slug() selected=move || chosen() == c.slug()>{c.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="log-from">"From"</label>
                        <input id="log-from" type="date" name="from" value=param("from").unwrap_or_default() prop:value=move || param("from").unwrap_or_default()/>
                    </div>
                    <div class="field">
                        <label for="log-to">"To"</label>
                        <input id="log-to" type="date" name="to" value=param("to").unwrap_or_default() prop:value=move || param("to").unwrap_or_default()/>
                    </div>
                    <div class="filter-actions">
                        <button type="submit" class="btn btn-secondary">"Apply Filters"</button>
                        <a class="btn btn-secondary" href="/settings/security-log">"Clear"</a>
                    </div>
                </div>
            </Form>
        </section>
        // A new filter keeps the old list shown until the new one is there.
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Err(e) => view! {
                        <div class="alert alert-error" role="alert">{format!("The log could not be loaded: {e}")}</div>
                        <button type="button" class="btn btn-secondary" on:click=move |_| first.refetch()>"Try Again"</button>
                    }.into_any(),
                    Ok(page) => {
                        let empty = page.entries.is_empty();
                        let first_next = page.next.clone();
                        let next = move || cursor.get().unwrap_or_else(|| first_next.clone());
                        let next_for_click = next.clone();
                        view! {
                            <section class="card" aria-labelledby="events-title">
                                <h2 id="events-title">"Events"</h2>
                                {if empty {
                                    view! { <p class="muted empty">"No events match these filters."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-scroll" role="region" aria-labelledby="events-title" tabindex="0">
                                            <table class="log">
                                                <thead>
                                                    <tr>
                                                        <th scope="col">"Time"</th>
                                                        <th scope="col">"Event"</th>
                                                        <th scope="col">"Outcome"</th>
                                                        <th scope="col">"IP address"</th>
                                                        <th scope="col">"Location"</th>
                                                        <th scope="col">"Device"</th>
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {page.entries.into_iter().map(|e| view! { <LogRow entry=e/> }).collect_view()}
                                                    <For each=move || more.get() key=|e| e.id let:e>
                                                        <LogRow entry=e/>
                                                    </For>
                                                </tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                                <div class="log-footer">
                                    <p id="log-status" class="muted" role="status" tabindex="-1">{move || status.get()}</p>
                                    {move || next().map(|_| view! {
                                        <button type="button" class="btn btn-secondary"
                                            disabled=move || load_more.pending().get()
                                            on:click={
                                                let next_for_click = next_for_click.clone();
                                                move |_| {
                                                    if let Some(after) = next_for_click() {
                                                        load_more.dispatch(after);
                                                    }
                                                }
                                            }>
                                            "Load more"
                                        </button>
                                    })}
                                    {move || load_error().map(|e| view! {
                                        <p class="alert alert-error" role="alert">{format!("More events could not be loaded: {e}")}</p>
                                    })}
                                </div>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="export-title">
            <h2 id="export-title">"Export Log"</h2>
            <p class="muted">"Download the events that match the filters above, for your records or an audit."</p>
            <div class="method-actions">
                <a class="btn btn-secondary" href=move || export_href("csv") download="">"Download CSV"</a>
                <a class="btn btn-secondary" href=move || export_href("jsonl") download="">"Download JSON Lines"</a>
            </div>
        </section>
    }
}

#[component]
fn LogRow(entry: LogEntry) -> impl IntoView {
    let refused = entry.outcome == Outcome::Refused;
    view! {
        <tr>
            <td><ExactTime at=entry.at/></td>
            <td>{entry.event}</td>
            <td>
                <span class="badge" class:badge-success=!refused class:badge-danger=refused>
                    {entry.outcome.label()}
                </span>
            </td>
            <td class="mono">{entry.ip}</td>
            <td>{entry.location}</td>
            <td>{entry.device}</td>
        </tr>
    }
}
