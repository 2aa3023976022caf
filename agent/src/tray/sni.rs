//! The StatusNotifierItem on the session bus, served by hand on the agent's
//! zbus (no object server): one connection on a thread of its own (as the
//! agent's other bus work runs, under `zbus::block_on`), owning
//! `org.kde.StatusNotifierItem-<pid>-1` and answering calls on two objects,
//! the item at [`PATH`] and the menu at [`super::menu::PATH`], plus
//! `org.freedesktop.DBus.Properties`, `Introspectable` and `Peer` on both.
//!
//! The item registers with `org.kde.StatusNotifierWatcher` when one is on the
//! bus, and again whenever one appears (a tray that starts later or
//! restarts, seen through `NameOwnerChanged`); without one it says so once
//! (info) and waits. The call is sent without waiting for its answer, so a
//! watcher that calls back before answering finds the item serving.

use std::collections::HashMap;
use std::num::NonZeroU32;

use futures_lite::StreamExt;
use tokio::sync::{mpsc, watch};
use zbus::message::{Flags, Type as MsgType};
use zbus::{Connection, Message, MessageStream, ObjectPath, Variant};

use super::{fault, menu, Fault, TrayEvent, TrayState};
use crate::watch::bus;

/// Where the item is served.
pub const PATH: &str = "/StatusNotifierItem";
/// Its interface.
pub const IFACE: &str = "org.kde.StatusNotifierItem";
/// The tray side: items register with it.
pub const WATCHER: &str = "org.kde.StatusNotifierWatcher";
const WATCHER_PATH: &str = "/StatusNotifierWatcher";

const DBUS: &str = "org.freedesktop.DBus";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
const INTROSPECTABLE: &str = "org.freedesktop.DBus.Introspectable";
const PEER: &str = "org.freedesktop.DBus.Peer";

/// The bus name the item owns.
pub fn bus_name(pid: u32) -> String {
    format!("{IFACE}-{pid}-1")
}

/// Icon pixmaps, `a(iiay)`: width, height, ARGB32 bytes.
type Pixmaps = Vec<(i32, i32, Vec<u8>)>;

/// No pixmaps: icons go by name.
fn no_pixmaps() -> Variant<'static> {
    Variant::from(Pixmaps::new())
}

/// What the item and its menu show, and the menu's layout revision.
pub struct Item {
    state: TrayState,
    revision: u32,
}

impl Item {
    pub fn new(state: TrayState) -> Self {
        Item { state, revision: 1 }
    }

    /// The `ToolTip` property, `(s a(iiay) s s)`: icon name, no pixmaps, title, text.
    pub fn tooltip(&self) -> Variant<'static> {
        Variant::from((
            self.state.icon.name(),
            Pixmaps::new(),
            "dwell",
            self.state.tooltip.clone(),
        ))
    }

    /// The item's properties.
    pub fn properties(&self) -> HashMap<&'static str, Variant<'static>> {
        HashMap::from([
            ("Category", Variant::from("ApplicationStatus")),
            ("Id", Variant::from("dwell")),
            ("Title", Variant::from("dwell")),
            // Always active: a change of icon is the quiet signal, never
            // "needs attention".
            ("Status", Variant::from("Active")),
            ("WindowId", Variant::from(0i32)),
            ("IconThemePath", Variant::from("")),
            ("IconName", Variant::from(self.state.icon.name())),
            ("IconPixmap", no_pixmaps()),
            ("OverlayIconName", Variant::from("")),
            ("OverlayIconPixmap", no_pixmaps()),
            ("AttentionIconName", Variant::from("")),
            ("AttentionIconPixmap", no_pixmaps()),
            ("AttentionMovieName", Variant::from("")),
            ("ToolTip", self.tooltip()),
            ("ItemIsMenu", Variant::from(true)),
            (
                "Menu",
                Variant::ObjectPath(ObjectPath::from_static_str_unchecked(menu::PATH)),
            ),
        ])
    }

    /// Takes what to show now; the signals that tell hosts what changed.
    pub fn update(&mut self, state: TrayState) -> Vec<zbus::Result<Message>> {
        let signal = |name: &str| Message::signal(PATH, IFACE, name).build(&());
        let mut out = Vec::new();
        if state.icon != self.state.icon {
            out.push(signal("NewIcon"));
        }
        if state.icon != self.state.icon || state.tooltip != self.state.tooltip {
            out.push(signal("NewToolTip"));
        }
        // The status is always `Active`, so `NewStatus` is never due.
        if state.paused != self.state.paused
            || state.reminder_actions != self.state.reminder_actions
        {
            // Resume's `enabled` follows the pause.
            self.revision = self.revision.wrapping_add(1);
            out.push(menu::layout_updated(self.revision));
        }
        self.state = state;
        out
    }

    /// Answers a method call: the reply (unless none is expected) and any
    /// menu choice for the run loop.
    pub fn answer(&self, msg: &Message) -> (Option<Message>, Option<TrayEvent>) {
        let header = msg.header();
        let path = header.path().map(|p| p.as_str()).unwrap_or("");
        let iface = header.interface().map(|i| i.as_str());
        let member = header.member().map(|m| m.as_str()).unwrap_or("");
        let answer = self.dispatch(path, iface, member, msg);
        if msg
            .primary_header()
            .flags()
            .contains(Flags::NO_REPLY_EXPECTED)
        {
            return (None, answer.chosen);
        }
        let reply = answer.reply.or_else(|f| {
            Message::error(&header, f.name)
                .build(&f.text)
                .map_err(|e| fault("org.freedesktop.DBus.Error.Failed", e.to_string()))
        });
        (reply.ok(), answer.chosen)
    }

    fn dispatch(
        &self,
        path: &str,
        iface: Option<&str>,
        member: &str,
        msg: &Message,
    ) -> menu::Answer {
        let header = msg.header();
        let ok = |body: &dyn Fn(zbus::message::Builder<'static>) -> zbus::Result<Message>| {
            body(Message::method_return(&header))
                .map_err(|e| fault("org.freedesktop.DBus.Error.Failed", e.to_string()))
        };
        if !matches!(path, "/" | PATH | menu::PATH) {
            return Err(fault(
                "org.freedesktop.DBus.Error.UnknownObject",
                format!("no object at {path}"),
            ))
            .into();
        }
        match (iface, member) {
            (Some(INTROSPECTABLE) | None, "Introspect") => {
                ok(&|b| b.build(&introspection(path))).into()
            }
            (Some(PEER) | None, "Ping") => ok(&|b| b.build(&())).into(),
            (Some(PROPERTIES), _) => self.property_call(path, member, msg).into(),
            (Some(IFACE) | None, _) if path == PATH => match member {
                // The host shows the menu on a click (`ItemIsMenu`); the rest
                // have nothing to do.
                "Activate"
                | "SecondaryActivate"
                | "ContextMenu"
                | "Scroll"
                | "ProvideXdgActivationToken" => ok(&|b| b.build(&())).into(),
                other => Err(fault(
                    "org.freedesktop.DBus.Error.UnknownMethod",
                    format!("{IFACE} has no method {other:?}"),
                ))
                .into(),
            },
            (Some(menu::IFACE) | None, _) if path == menu::PATH => menu::call(
                member,
                msg,
                menu::Flags {
                    paused: self.state.paused,
                    reminder_actions: self.state.reminder_actions,
                },
                self.revision,
            ),
            (iface, member) => Err(fault(
                "org.freedesktop.DBus.Error.UnknownMethod",
                format!(
                    "no method {member:?} of {} at {path}",
                    iface.unwrap_or("any interface")
                ),
            ))
            .into(),
        }
    }

    /// `org.freedesktop.DBus.Properties` on the item or the menu (read only).
    fn property_call(&self, path: &str, member: &str, msg: &Message) -> Result<Message, Fault> {
        let header = msg.header();
        let props_of = |iface: &str| match (path, iface) {
            (PATH, IFACE) => Ok(self.properties()),
            (menu::PATH, menu::IFACE) => Ok(menu::properties()),
            _ => Err(fault(
                "org.freedesktop.DBus.Error.UnknownInterface",
                format!("no interface {iface:?} at {path}"),
            )),
        };
        let bad_args = |shape: &str| {
            fault(
                "org.freedesktop.DBus.Error.InvalidArgs",
                format!("expected ({shape})"),
            )
        };
        let built = match member {
            "Get" => {
                let (iface, name) = msg
                    .body()
                    .deserialize::<(String, String)>()
                    .map_err(|_| bad_args("s interface, s property"))?;
                let mut all = props_of(&iface)?;
                let value = all.remove(name.as_str()).ok_or_else(|| {
                    fault(
                        "org.freedesktop.DBus.Error.UnknownProperty",
                        format!("{iface} has no property {name:?}"),
                    )
                })?;
                Message::method_return(&header).build(&value)
            }
            "GetAll" => {
                let (iface,) = msg
                    .body()
                    .deserialize::<(String,)>()
                    .map_err(|_| bad_args("s interface"))?;
                let all = props_of(&iface)?;
                Message::method_return(&header).build(&(all,))
            }
            "Set" => {
                return Err(fault(
                    "org.freedesktop.DBus.Error.PropertyReadOnly",
                    "the tray's properties are read only".into(),
                ))
            }
            other => {
                return Err(fault(
                    "org.freedesktop.DBus.Error.UnknownMethod",
                    format!("{PROPERTIES} has no method {other:?}"),
                ))
            }
        };
        built.map_err(|e| fault("org.freedesktop.DBus.Error.Failed", e.to_string()))
    }
}

const INTROSPECT_HEAD: &str = "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\" \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n";

const STANDARD_IFACES: &str = r#" <interface name="org.freedesktop.DBus.Introspectable"><method name="Introspect"><arg type="s" direction="out"/></method></interface>
 <interface name="org.freedesktop.DBus.Peer"><method name="Ping"/></interface>
 <interface name="org.freedesktop.DBus.Properties">
  <method name="Get"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="out"/></method>
  <method name="GetAll"><arg type="s" direction="in"/><arg type="a{sv}" direction="out"/></method>
  <method name="Set"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="in"/></method>
  <signal name="PropertiesChanged"><arg type="s"/><arg type="a{sv}"/><arg type="as"/></signal>
 </interface>
"#;

const ITEM_IFACE: &str = r#" <interface name="org.kde.StatusNotifierItem">
  <property name="Category" type="s" access="read"/><property name="Id" type="s" access="read"/>
  <property name="Title" type="s" access="read"/><property name="Status" type="s" access="read"/>
  <property name="WindowId" type="i" access="read"/><property name="IconThemePath" type="s" access="read"/>
  <property name="IconName" type="s" access="read"/><property name="IconPixmap" type="a(iiay)" access="read"/>
  <property name="OverlayIconName" type="s" access="read"/><property name="OverlayIconPixmap" type="a(iiay)" access="read"/>
  <property name="AttentionIconName" type="s" access="read"/><property name="AttentionIconPixmap" type="a(iiay)" access="read"/>
  <property name="AttentionMovieName" type="s" access="read"/><property name="ToolTip" type="(sa(iiay)ss)" access="read"/>
  <property name="ItemIsMenu" type="b" access="read"/><property name="Menu" type="o" access="read"/>
  <method name="ContextMenu"><arg name="x" type="i" direction="in"/><arg name="y" type="i" direction="in"/></method>
  <method name="Activate"><arg name="x" type="i" direction="in"/><arg name="y" type="i" direction="in"/></method>
  <method name="SecondaryActivate"><arg name="x" type="i" direction="in"/><arg name="y" type="i" direction="in"/></method>
  <method name="Scroll"><arg name="delta" type="i" direction="in"/><arg name="orientation" type="s" direction="in"/></method>
  <method name="ProvideXdgActivationToken"><arg name="token" type="s" direction="in"/></method>
  <signal name="NewTitle"/><signal name="NewIcon"/><signal name="NewAttentionIcon"/><signal name="NewOverlayIcon"/>
  <signal name="NewToolTip"/><signal name="NewStatus"><arg name="status" type="s"/></signal>
 </interface>
"#;

const MENU_IFACE: &str = r#" <interface name="com.canonical.dbusmenu">
  <property name="Version" type="u" access="read"/><property name="TextDirection" type="s" access="read"/>
  <property name="Status" type="s" access="read"/><property name="IconThemePath" type="as" access="read"/>
  <method name="GetLayout"><arg name="parentId" type="i" direction="in"/><arg name="recursionDepth" type="i" direction="in"/><arg name="propertyNames" type="as" direction="in"/><arg name="revision" type="u" direction="out"/><arg name="layout" type="(ia{sv}av)" direction="out"/></method>
  <method name="GetGroupProperties"><arg name="ids" type="ai" direction="in"/><arg name="propertyNames" type="as" direction="in"/><arg name="properties" type="a(ia{sv})" direction="out"/></method>
  <method name="GetProperty"><arg name="id" type="i" direction="in"/><arg name="name" type="s" direction="in"/><arg name="value" type="v" direction="out"/></method>
  <method name="Event"><arg name="id" type="i" direction="in"/><arg name="eventId" type="s" direction="in"/><arg name="data" type="v" direction="in"/><arg name="timestamp" type="u" direction="in"/></method>
  <method name="EventGroup"><arg name="events" type="a(isvu)" direction="in"/><arg name="idErrors" type="ai" direction="out"/></method>
  <method name="AboutToShow"><arg name="id" type="i" direction="in"/><arg name="needUpdate" type="b" direction="out"/></method>
  <method name="AboutToShowGroup"><arg name="ids" type="ai" direction="in"/><arg name="updatesNeeded" type="ai" direction="out"/><arg name="idErrors" type="ai" direction="out"/></method>
  <signal name="ItemsPropertiesUpdated"><arg type="a(ia{sv})"/><arg type="a(ias)"/></signal>
  <signal name="LayoutUpdated"><arg name="revision" type="u"/><arg name="parent" type="i"/></signal>
  <signal name="ItemActivationRequested"><arg name="id" type="i"/><arg name="timestamp" type="u"/></signal>
 </interface>
"#;

/// The introspection data of the object at `path`.
fn introspection(path: &str) -> String {
    let body = match path {
        PATH => ITEM_IFACE,
        menu::PATH => MENU_IFACE,
        _ => " <node name=\"StatusNotifierItem\"/>\n <node name=\"MenuBar\"/>\n",
    };
    format!("{INTROSPECT_HEAD}{STANDARD_IFACES}{body}</node>\n")
}

/// The connection, its messages and the name the item registers under.
async fn connect() -> zbus::Result<(Connection, MessageStream, String)> {
    let conn = bus::session().await?;
    let stream = MessageStream::from(&conn);
    let name = bus_name(std::process::id());
    let flags = zbus::fdo::RequestNameFlags::DO_NOT_QUEUE;
    let service = match conn.request_name_with_flags(name.as_str(), flags).await {
        Ok(zbus::fdo::RequestNameReply::PrimaryOwner)
        | Ok(zbus::fdo::RequestNameReply::AlreadyOwner) => name,
        // Watchers take a unique name too.
        _ => match conn.unique_name() {
            Some(unique) => unique.to_string(),
            None => return Err(zbus::Error::Failure("no name on the session bus".into())),
        },
    };
    bus::add_match(
        &conn,
        &format!(
            "type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{WATCHER}'"
        ),
    )
    .await?;
    Ok((conn, stream, service))
}

/// The serving side of the connection: the item, the registration in flight
/// and whether "no tray" has been said.
struct Served {
    conn: Connection,
    service: String,
    item: Item,
    events: mpsc::Sender<TrayEvent>,
    /// The serial of the registration call whose answer is awaited.
    registering: Option<NonZeroU32>,
    said_offline: bool,
}

impl Served {
    fn no_tray(&mut self) {
        if !std::mem::replace(&mut self.said_offline, true) {
            tracing::info!(
                "no tray on this desktop (no StatusNotifierWatcher on the session bus): running without the icon; it appears if a tray starts later"
            );
        } else {
            tracing::debug!("no tray on the desktop any more");
        }
    }

    /// Sends `RegisterStatusNotifierItem`; the answer comes through the stream.
    async fn register(&mut self) {
        let call = Message::method_call(WATCHER_PATH, "RegisterStatusNotifierItem")
            .destination(WATCHER)
            .interface(WATCHER)
            .with_flags(Flags::NO_AUTO_START)
            .build(&(self.service.as_str(),));
        match call {
            Ok(call) => {
                self.registering = Some(call.primary_header().serial_num());
                if let Err(e) = self.conn.send(&call).await {
                    tracing::warn!(error = %e, "cannot register the tray icon");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot register the tray icon"),
        }
    }

    async fn send(&self, msg: zbus::Result<Message>) {
        if let Err(e) = match msg {
            Ok(m) => self.conn.send(&m).await,
            Err(e) => Err(e),
        } {
            tracing::debug!(error = %e, "cannot send on the session bus (tray)");
        }
    }

    async fn on_message(&mut self, msg: &Message) {
        let header = msg.header();
        match header.message_type() {
            MsgType::MethodCall => {
                let (reply, chosen) = self.item.answer(msg);
                if let Some(reply) = reply {
                    self.send(Ok(reply)).await;
                }
                if let Some(ev) = chosen {
                    if let Err(e) = self.events.try_send(ev) {
                        tracing::warn!(error = %e, "a tray menu choice was lost");
                    }
                }
            }
            MsgType::Signal => {
                let owner_changed = header.interface().is_some_and(|i| i.as_str() == DBUS)
                    && header
                        .member()
                        .is_some_and(|m| m.as_str() == "NameOwnerChanged");
                if !owner_changed {
                    return;
                }
                if let Ok((name, _old, new)) = msg.body().deserialize::<(String, String, String)>()
                {
                    if name != WATCHER {
                        return;
                    }
                    if new.is_empty() {
                        tracing::debug!("the tray went away");
                    } else {
                        self.register().await;
                    }
                }
            }
            MsgType::MethodReturn | MsgType::Error => {
                if header.reply_serial().is_none() || header.reply_serial() != self.registering {
                    return;
                }
                self.registering = None;
                if header.message_type() == MsgType::MethodReturn {
                    tracing::info!("the dwell icon is in the tray");
                    return;
                }
                let name = header.error_name().map(|n| n.as_str()).unwrap_or("");
                match name {
                    "org.freedesktop.DBus.Error.ServiceUnknown"
                    | "org.freedesktop.DBus.Error.NameHasNoOwner" => self.no_tray(),
                    _ => tracing::warn!(error = name, "the tray did not take the icon"),
                }
            }
        }
    }
}

enum Next {
    Message(Option<zbus::Result<Message>>),
    /// What to show changed (`false`: the run loop let go of the tray).
    Shown(bool),
}

/// Serves the tray until the run loop lets go of it (or the bus goes away).
pub async fn serve(mut shown: watch::Receiver<TrayState>, events: mpsc::Sender<TrayEvent>) {
    let (conn, mut stream, service) = match connect().await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot show the tray icon; running without it");
            return;
        }
    };
    let item = Item::new(shown.borrow_and_update().clone());
    let mut served = Served {
        conn,
        service,
        item,
        events,
        registering: None,
        said_offline: false,
    };
    if bus::has_owner(&served.conn, WATCHER).await {
        served.register().await;
    } else {
        served.no_tray();
    }
    loop {
        let next = futures_lite::future::or(async { Next::Message(stream.next().await) }, async {
            Next::Shown(shown.changed().await.is_ok())
        })
        .await;
        match next {
            Next::Message(Some(Ok(msg))) => served.on_message(&msg).await,
            Next::Message(_) => {
                tracing::warn!("lost the session bus: no tray icon from now on");
                break;
            }
            Next::Shown(true) => {
                let state = shown.borrow_and_update().clone();
                for signal in served.item.update(state) {
                    served.send(signal).await;
                }
            }
            Next::Shown(false) => break,
        }
        if served.events.is_closed() {
            break;
        }
    }
    // Off the bus: the name goes, and the tray drops the item.
    drop(stream);
    let _ = served.conn.close().await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tray::{state, PauseNote};
    use std::time::Duration;

    fn item(paused: bool) -> Item {
        let pause = paused.then_some(PauseNote::Indefinite);
        Item::new(state(
            Duration::from_secs(720),
            Duration::from_secs(1800),
            pause,
        ))
    }

    fn call<B>(path: &str, iface: &str, member: &str, body: &B) -> Message
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        Message::method_call(path, member)
            .interface(iface)
            .build(body)
            .unwrap()
    }

    #[test]
    fn the_tooltip_is_icon_no_pixmaps_title_and_text() {
        let tip = item(false).tooltip();
        assert_eq!(tip.value_signature().to_string(), "(sa(iiay)ss)");
        let (icon, pixmaps, title, text): (String, Pixmaps, String, String) =
            tip.downcast().unwrap();
        assert_eq!(icon, "appointment-soon");
        assert!(pixmaps.is_empty());
        assert_eq!(title, "dwell");
        assert_eq!(text, "Today: 12m of your 30m daily limit");
    }

    #[test]
    fn the_item_answers_its_properties() {
        let it = item(false);
        let reply = it
            .answer(&call(PATH, PROPERTIES, "GetAll", &(IFACE,)))
            .0
            .unwrap();
        assert_eq!(reply.header().message_type(), MsgType::MethodReturn);
        assert_eq!(reply.body().signature().to_string_no_parens(), "a{sv}");
        let all: HashMap<String, zbus::OwnedVariant> = reply.body().deserialize().unwrap();
        let s = |k: &str| String::try_from(all[k].try_clone().unwrap()).unwrap();
        assert_eq!(s("Category"), "ApplicationStatus");
        assert_eq!(s("Id"), "dwell");
        assert_eq!(s("Title"), "dwell");
        assert_eq!(s("Status"), "Active");
        assert_eq!(s("IconName"), "appointment-soon");
        assert!(bool::try_from(&all["ItemIsMenu"]).unwrap());
        let menu: zbus::OwnedObjectPath = all["Menu"].try_clone().unwrap().try_into().unwrap();
        assert_eq!(menu.as_str(), "/MenuBar");
        assert_eq!(all["ToolTip"].value_signature().to_string(), "(sa(iiay)ss)");

        let get = it
            .answer(&call(PATH, PROPERTIES, "Get", &(IFACE, "IconName")))
            .0
            .unwrap();
        assert_eq!(get.body().signature().to_string_no_parens(), "v");
        let version = it
            .answer(&call(
                menu::PATH,
                PROPERTIES,
                "Get",
                &(menu::IFACE, "Version"),
            ))
            .0
            .unwrap();
        let version: zbus::OwnedVariant = version.body().deserialize().unwrap();
        assert_eq!(u32::try_from(version).unwrap(), 3);

        let error = |m: Message| {
            assert_eq!(m.header().message_type(), MsgType::Error);
            m.header().error_name().unwrap().to_string()
        };
        let missing = it
            .answer(&call(PATH, PROPERTIES, "Get", &(IFACE, "Nope")))
            .0;
        assert_eq!(
            error(missing.unwrap()),
            "org.freedesktop.DBus.Error.UnknownProperty"
        );
        let set = it.answer(&call(
            PATH,
            PROPERTIES,
            "Set",
            &(IFACE, "Title", Variant::from("x")),
        ));
        assert_eq!(
            error(set.0.unwrap()),
            "org.freedesktop.DBus.Error.PropertyReadOnly"
        );
        let elsewhere = it.answer(&call("/elsewhere", PEER, "Ping", &()));
        assert_eq!(
            error(elsewhere.0.unwrap()),
            "org.freedesktop.DBus.Error.UnknownObject"
        );
        let unknown = it.answer(&call(PATH, IFACE, "Explode", &()));
        assert_eq!(
            error(unknown.0.unwrap()),
            "org.freedesktop.DBus.Error.UnknownMethod"
        );
    }

    #[test]
    fn a_menu_click_reaches_the_run_loop_through_the_item() {
        let it = item(false);
        let click = call(
            menu::PATH,
            menu::IFACE,
            "Event",
            &(1i32, "clicked", Variant::from(0i32), 0u32),
        );
        let (reply, chosen) = it.answer(&click);
        assert_eq!(
            reply.unwrap().header().message_type(),
            MsgType::MethodReturn
        );
        assert_eq!(chosen, Some(TrayEvent::PauseHour));
        // A call that expects no reply gets none, and still counts.
        let quiet = Message::method_call(menu::PATH, "Event")
            .interface(menu::IFACE)
            .with_flags(Flags::NO_REPLY_EXPECTED)
            .build(&(8i32, "clicked", Variant::from(0i32), 0u32))
            .unwrap();
        let (reply, chosen) = it.answer(&quiet);
        assert!(reply.is_none());
        assert_eq!(chosen, Some(TrayEvent::Settings));
    }

    #[test]
    fn changes_are_signalled_and_the_pause_bumps_the_layout() {
        let mut it = item(false);
        let names = |sigs: Vec<zbus::Result<Message>>| -> Vec<String> {
            sigs.into_iter()
                .map(|s| s.unwrap().header().member().unwrap().to_string())
                .collect()
        };
        let same = it.state.clone();
        assert!(it.update(same).is_empty());
        let more = state(Duration::from_secs(780), Duration::from_secs(1800), None);
        assert_eq!(names(it.update(more)), ["NewToolTip"]);
        let over = state(Duration::from_secs(1900), Duration::from_secs(1800), None);
        assert_eq!(names(it.update(over)), ["NewIcon", "NewToolTip"]);
        let paused = state(
            Duration::from_secs(1900),
            Duration::from_secs(1800),
            Some(PauseNote::Indefinite),
        );
        let sigs = it.update(paused);
        let layout = sigs[2].as_ref().unwrap();
        assert_eq!(layout.header().interface().unwrap().as_str(), menu::IFACE);
        assert_eq!(layout.body().deserialize::<(u32, i32)>().unwrap(), (2, 0));
        assert_eq!(names(sigs), ["NewIcon", "NewToolTip", "LayoutUpdated"]);
        assert!(it.state.paused);
    }

    #[test]
    fn introspection_names_both_objects_and_their_interfaces() {
        let it = item(false);
        let xml = |path: &str| -> String {
            let reply = it
                .answer(&call(path, INTROSPECTABLE, "Introspect", &()))
                .0
                .unwrap();
            reply.body().deserialize::<String>().unwrap()
        };
        assert!(xml("/").contains("<node name=\"MenuBar\"/>"));
        assert!(xml(PATH).contains("<interface name=\"org.kde.StatusNotifierItem\">"));
        assert!(xml(menu::PATH).contains("<interface name=\"com.canonical.dbusmenu\">"));
        assert_eq!(bus_name(42), "org.kde.StatusNotifierItem-42-1");
    }
}
