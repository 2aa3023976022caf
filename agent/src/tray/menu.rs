//! The tray's menu as `com.canonical.dbusmenu` (version 3) serves it at
//! [`PATH`]: a fixed list of entries under the root (id 0), each with a fixed
//! id, so a host's cached ids stay right; only `enabled` changes: Resume's
//! (with the pause), Snooze's and Done for today's (with
//! [`Flags::reminder_actions`]); each change bumps the layout revision
//! (`LayoutUpdated`).
//!
//! Pure: every call is answered from the menu and its [`Flags`]; a click
//! comes back as the [`TrayEvent`] to send.

use std::collections::HashMap;

use zbus::message::Header;
use zbus::wire::StructureBuilder;
use zbus::{DynamicTuple, Message, OwnedVariant, Variant};

pub use super::rows::Flags;
use super::rows::{click, row, Row, ROWS};
use super::{fault, Fault, TrayEvent};

/// Where the menu is served.
pub const PATH: &str = "/MenuBar";
/// Its interface.
pub const IFACE: &str = "com.canonical.dbusmenu";

/// The menu's properties, a map of name to value (`a{sv}`).
type Props = HashMap<&'static str, Variant<'static>>;

/// A node of the layout, `(ia{sv}av)`: id, properties, children (each a
/// variant holding a node).
type Node = (i32, Props, Vec<Variant<'static>>);

/// Whether `id` is the root or one of the rows.
fn exists(id: i32) -> bool {
    id == 0 || row(id).is_some()
}

fn not_found(id: i32) -> Fault {
    fault(
        "org.freedesktop.DBus.Error.InvalidArgs",
        format!("the menu has no entry with id {id}"),
    )
}

/// The properties of `id` (root or row), only those in `names` unless it is
/// empty. Defaults are written out too (`enabled`), as hosts differ in
/// what they assume.
fn props(id: i32, flags: Flags, names: &[String]) -> Option<Props> {
    let mut all = Props::new();
    if id == 0 {
        all.insert("children-display", Variant::from("submenu"));
    } else {
        match row(id)? {
            Row::Entry(label, event) => {
                all.insert("label", Variant::from(label));
                all.insert("enabled", Variant::from(flags.enabled(event)));
            }
            Row::Separator => {
                all.insert("type", Variant::from("separator"));
            }
        }
    }
    if !names.is_empty() {
        all.retain(|k, _| names.iter().any(|n| n == k));
    }
    Some(all)
}

/// The layout from `parent` down `depth` levels (-1: all).
fn layout(parent: i32, depth: i32, flags: Flags, names: &[String]) -> Option<Node> {
    let props = props(parent, flags, names)?;
    let children = if parent == 0 && depth != 0 {
        (1..=ROWS.len() as i32)
            .filter_map(|id| layout(id, depth.saturating_sub(1), flags, names))
            .map(node_variant)
            .collect()
    } else {
        Vec::new()
    };
    Some((parent, props, children))
}

/// A node as a child of another: a variant holding the `(ia{sv}av)` structure.
fn node_variant((id, props, children): Node) -> Variant<'static> {
    let built = StructureBuilder::new()
        .add_field(id)
        .add_field(props)
        .add_field(children)
        .build();
    match built {
        Ok(s) => Variant::Structure(s),
        // Three fields never fail to build; an empty structure is not valid either.
        Err(_) => Variant::from(id),
    }
}

/// The menu's own D-Bus properties (`org.freedesktop.DBus.Properties` on [`PATH`]).
pub fn properties() -> Props {
    HashMap::from([
        ("Version", Variant::from(3u32)),
        ("TextDirection", Variant::from("ltr")),
        ("Status", Variant::from("normal")),
        ("IconThemePath", Variant::from(Vec::<String>::new())),
    ])
}

/// What a method call on the menu comes to.
pub struct Answer {
    /// The reply to send (or the error).
    pub reply: Result<Message, Fault>,
    /// A menu choice for the run loop.
    pub chosen: Option<TrayEvent>,
}

impl From<Result<Message, Fault>> for Answer {
    fn from(reply: Result<Message, Fault>) -> Self {
        Answer {
            reply,
            chosen: None,
        }
    }
}

fn args<T>(msg: &Message, shape: &str) -> Result<T, Fault>
where
    T: serde::de::DeserializeOwned + zbus::Type,
{
    msg.body().deserialize::<T>().map_err(|_| {
        fault(
            "org.freedesktop.DBus.Error.InvalidArgs",
            format!("expected ({shape})"),
        )
    })
}

fn reply<B>(header: &Header<'_>, body: &B) -> Result<Message, Fault>
where
    B: serde::Serialize + zbus::DynamicType,
{
    Message::method_return(header)
        .build(body)
        .map_err(|e| fault("org.freedesktop.DBus.Error.Failed", e.to_string()))
}

/// Answers a `com.canonical.dbusmenu` method call (`member`) on [`PATH`],
/// with the layout at `revision`.
pub fn call(member: &str, msg: &Message, flags: Flags, revision: u32) -> Answer {
    let header = msg.header();
    let header = &header;
    match member {
        "GetLayout" => (|| {
            let (parent, depth, names) = args::<(i32, i32, Vec<String>)>(
                msg,
                "i parentId, i recursionDepth, as propertyNames",
            )?;
            let node = layout(parent, depth, flags, &names).ok_or_else(|| not_found(parent))?;
            let node = StructureBuilder::new()
                .add_field(node.0)
                .add_field(node.1)
                .add_field(node.2)
                .build()
                .map_err(|e| fault("org.freedesktop.DBus.Error.Failed", e.to_string()))?;
            reply(header, &DynamicTuple((revision, node)))
        })()
        .into(),
        "GetGroupProperties" => (|| {
            let (ids, names) = args::<(Vec<i32>, Vec<String>)>(msg, "ai ids, as propertyNames")?;
            let ids = if ids.is_empty() {
                (0..=ROWS.len() as i32).collect()
            } else {
                ids
            };
            let found: Vec<(i32, Props)> = ids
                .into_iter()
                .filter_map(|id| props(id, flags, &names).map(|p| (id, p)))
                .collect();
            reply(header, &(found,))
        })()
        .into(),
        "GetProperty" => (|| {
            let (id, name) = args::<(i32, String)>(msg, "i id, s name")?;
            let mut all = props(id, flags, &[]).ok_or_else(|| not_found(id))?;
            let value = all.remove(name.as_str()).ok_or_else(|| {
                fault(
                    "org.freedesktop.DBus.Error.InvalidArgs",
                    format!("menu entry {id} has no property {name:?}"),
                )
            })?;
            reply(header, &value)
        })()
        .into(),
        "Event" => match args::<(i32, String, OwnedVariant, u32)>(
            msg,
            "i id, s eventId, v data, u timestamp",
        ) {
            Ok((id, _, _, _)) if !exists(id) => Err(not_found(id)).into(),
            Ok((id, event, _, _)) => Answer {
                reply: reply(header, &()),
                chosen: (event == "clicked").then(|| click(id, flags)).flatten(),
            },
            Err(f) => Err(f).into(),
        },
        "EventGroup" => {
            match args::<Vec<(i32, String, OwnedVariant, u32)>>(msg, "a(isvu) events") {
                Ok(events) => {
                    let unknown: Vec<i32> = events
                        .iter()
                        .map(|e| e.0)
                        .filter(|id| !exists(*id))
                        .collect();
                    if !events.is_empty() && unknown.len() == events.len() {
                        return Err(fault(
                            "org.freedesktop.DBus.Error.InvalidArgs",
                            "none of the events' ids is in the menu".into(),
                        ))
                        .into();
                    }
                    // A host sends one click at a time; take the last one.
                    let chosen = events
                        .iter()
                        .filter(|e| e.1 == "clicked")
                        .filter_map(|e| click(e.0, flags))
                        .next_back();
                    Answer {
                        reply: reply(header, &(unknown,)),
                        chosen,
                    }
                }
                Err(f) => Err(f).into(),
            }
        }
        // Nothing to prepare: the layout is always current. `false`, as Qt
        // answers (libdbusmenu does not heed the value).
        "AboutToShow" => (|| {
            let (id,) = args::<(i32,)>(msg, "i id")?;
            if !exists(id) {
                return Err(not_found(id));
            }
            reply(header, &false)
        })()
        .into(),
        "AboutToShowGroup" => (|| {
            let (ids,) = args::<(Vec<i32>,)>(msg, "ai ids")?;
            let unknown: Vec<i32> = ids.iter().copied().filter(|id| !exists(*id)).collect();
            reply(header, &(Vec::<i32>::new(), unknown))
        })()
        .into(),
        other => Err(fault(
            "org.freedesktop.DBus.Error.UnknownMethod",
            format!("{IFACE} has no method {other:?}"),
        ))
        .into(),
    }
}

/// The `LayoutUpdated(u revision, i parent)` signal for the whole menu.
pub fn layout_updated(revision: u32) -> zbus::Result<Message> {
    Message::signal(PATH, IFACE, "LayoutUpdated").build(&(revision, 0i32))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tray::MENU;

    fn flags(paused: bool) -> Flags {
        Flags {
            paused,
            reminder_actions: false,
        }
    }

    fn call_with<B>(member: &str, body: &B, paused: bool) -> Answer
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        call_flags(member, body, flags(paused))
    }

    fn call_flags<B>(member: &str, body: &B, flags: Flags) -> Answer
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        let msg = Message::method_call(PATH, member)
            .interface(IFACE)
            .build(body)
            .unwrap();
        call(member, &msg, flags, 7)
    }

    /// A node as a host decodes it.
    type Decoded = (i32, HashMap<String, OwnedVariant>, Vec<OwnedVariant>);

    /// The labels and `enabled` of the entries of a `GetLayout` reply (and its revision).
    fn entries(reply: &Message) -> (u32, Vec<(String, bool)>) {
        assert_eq!(
            reply.body().signature().to_string_no_parens(),
            "u(ia{sv}av)"
        );
        let (revision, (id, props, children)): (u32, Decoded) = reply.body().deserialize().unwrap();
        assert_eq!(id, 0);
        assert_eq!(
            String::try_from(props["children-display"].try_clone().unwrap()).unwrap(),
            "submenu"
        );
        let rows = children
            .into_iter()
            .filter_map(|child| {
                let (_, props, kids): Decoded = Variant::from(child).downcast().unwrap();
                assert!(kids.is_empty());
                let label = String::try_from(props.get("label")?.try_clone().unwrap()).unwrap();
                let enabled = bool::try_from(&props["enabled"]).unwrap();
                Some((label, enabled))
            })
            .collect();
        (revision, rows)
    }

    #[test]
    fn the_layout_is_a_dbusmenu_tree_of_the_menu() {
        let answer = call_with("GetLayout", &(0i32, -1i32, Vec::<String>::new()), false);
        assert!(answer.chosen.is_none());
        let (revision, rows) = entries(&answer.reply.unwrap());
        assert_eq!(revision, 7);
        let labels: Vec<&str> = rows.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(labels, MENU);
        // Resume is offered only while paused; Snooze and Done for today only
        // with a reminder on screen or over the limit.
        assert_eq!(rows[2], ("Resume".to_owned(), false));
        assert_eq!(rows[6], ("Snooze".to_owned(), false));
        assert_eq!(rows[7], ("Done for today".to_owned(), false));
        assert!(rows.iter().take(6).filter(|e| e.0 != "Resume").all(|e| e.1));

        let reply = call_with("GetLayout", &(0i32, -1i32, Vec::<String>::new()), true)
            .reply
            .unwrap();
        assert_eq!(entries(&reply).1[2], ("Resume".to_owned(), true));
    }

    #[test]
    fn separators_sit_between_the_groups_and_depth_zero_has_no_children() {
        let all = layout(0, -1, flags(false), &[]).unwrap();
        assert_eq!(all.2.len(), 11);
        let sep = props(4, flags(false), &[]).unwrap();
        assert_eq!(sep["type"], Variant::from("separator"));
        assert_eq!(
            props(7, flags(false), &[]).unwrap()["type"],
            Variant::from("separator")
        );
        assert!(layout(0, 0, flags(false), &[]).unwrap().2.is_empty());
        // Asking for one property leaves the others out.
        let only = props(1, flags(false), &["label".into()]).unwrap();
        assert_eq!(only.keys().collect::<Vec<_>>(), [&"label"]);
        assert!(layout(12, -1, flags(false), &[]).is_none());
        assert!(
            call_with("GetLayout", &(42i32, -1i32, Vec::<String>::new()), false)
                .reply
                .is_err()
        );
    }

    #[test]
    fn a_click_chooses_the_entry_and_resume_only_while_paused() {
        let clicked = |id: i32, paused: bool| {
            let a = call_with("Event", &(id, "clicked", Variant::from(0i32), 0u32), paused);
            assert!(a.reply.is_ok());
            a.chosen
        };
        assert_eq!(clicked(1, false), Some(TrayEvent::PauseHour));
        assert_eq!(clicked(2, false), Some(TrayEvent::PauseUntilTomorrow));
        assert_eq!(clicked(3, false), None);
        assert_eq!(clicked(3, true), Some(TrayEvent::Resume));
        assert_eq!(clicked(4, false), None);
        assert_eq!(clicked(5, false), Some(TrayEvent::ReportToday));
        assert_eq!(clicked(6, false), Some(TrayEvent::ReportWeek));
        assert_eq!(clicked(8, false), Some(TrayEvent::Settings));
        // Snooze and Done for today: only while offered.
        assert_eq!(clicked(10, false), None);
        let offered = Flags {
            paused: false,
            reminder_actions: true,
        };
        let click = |id: i32| {
            call_flags(
                "Event",
                &(id, "clicked", Variant::from(0i32), 0u32),
                offered,
            )
            .chosen
        };
        assert_eq!(click(10), Some(TrayEvent::Snooze));
        assert_eq!(click(11), Some(TrayEvent::DoneForToday));
        let reply = call_flags("GetLayout", &(0i32, -1i32, Vec::<String>::new()), offered)
            .reply
            .unwrap();
        assert_eq!(entries(&reply).1[6], ("Snooze".to_owned(), true));
        // Hovering chooses nothing; an unknown id is an error.
        let hovered = call_with(
            "Event",
            &(1i32, "hovered", Variant::from(0i32), 0u32),
            false,
        );
        assert!(hovered.reply.is_ok() && hovered.chosen.is_none());
        let unknown = call_with(
            "Event",
            &(99i32, "clicked", Variant::from(0i32), 0u32),
            false,
        );
        assert!(unknown.reply.is_err() && unknown.chosen.is_none());
        let group = call_with(
            "EventGroup",
            &(vec![
                (99i32, "clicked", Variant::from(0i32), 0u32),
                (6, "clicked", Variant::from(0i32), 0),
            ],),
            false,
        );
        assert_eq!(group.chosen, Some(TrayEvent::ReportWeek));
        let (errors,): (Vec<i32>,) = group.reply.unwrap().body().deserialize().unwrap();
        assert_eq!(errors, [99]);
    }

    #[test]
    fn properties_and_the_other_calls_answer_as_the_spec_says() {
        let p = properties();
        assert_eq!(p["Version"], Variant::from(3u32));
        assert_eq!(p["TextDirection"], Variant::from("ltr"));
        assert_eq!(p["Status"], Variant::from("normal"));
        let shown = call_with("AboutToShow", &(0i32,), false).reply.unwrap();
        assert!(!shown.body().deserialize::<bool>().unwrap());
        let group = call_with("AboutToShowGroup", &(vec![0i32, 1, 50],), false)
            .reply
            .unwrap();
        let (needed, errors): (Vec<i32>, Vec<i32>) = group.body().deserialize().unwrap();
        assert!(needed.is_empty());
        assert_eq!(errors, [50]);
        let label = call_with("GetProperty", &(5i32, "label"), false)
            .reply
            .unwrap();
        let label: OwnedVariant = label.body().deserialize().unwrap();
        assert_eq!(String::try_from(label).unwrap(), "Today's report");
        let group = call_with("GetGroupProperties", &(vec![3i32], vec!["enabled"]), true)
            .reply
            .unwrap();
        assert_eq!(group.body().signature().to_string_no_parens(), "a(ia{sv})");
        let (rows,): (Vec<(i32, HashMap<String, OwnedVariant>)>,) =
            group.body().deserialize().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, 3);
        assert!(bool::try_from(&rows[0].1["enabled"]).unwrap());
        let signal = layout_updated(4).unwrap();
        assert_eq!(signal.body().signature().to_string_no_parens(), "ui");
        assert_eq!(signal.body().deserialize::<(u32, i32)>().unwrap(), (4, 0));
    }
}
