//! The bus connections dwell opens: only to a local (`unix:`) bus, every call
//! with a timeout, and the few calls to the bus itself (match rules, owners).

use std::time::Duration;

use zbus::Connection;

use super::{DBUS, DBUS_PATH};

/// Refuses a bus address list with anything but `unix:` transports (a `tcp:`
/// address would make the agent open a network connection).
pub fn local_only(address: &str) -> Result<(), String> {
    for part in address.split(';').filter(|p| !p.trim().is_empty()) {
        if !part.trim_start().starts_with("unix:") {
            let transport = part.split(':').next().unwrap_or(part);
            return Err(format!(
                "the bus address uses the `{transport}:` transport; dwell only talks to a local bus (`unix:`)"
            ));
        }
    }
    Ok(())
}

/// Why the bus in the environment variable `var` is not used, when its
/// address is not local (see [`local_only`]); `None` when it is, or unset.
pub fn refused_address(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .and_then(|address| local_only(&address).err())
}

/// How long any call dwell makes on a bus may wait for its reply: a name
/// owner that never answers must not hang the agent or the native host.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The session bus, if its address is local; every call on it times out
/// after [`CALL_TIMEOUT`].
pub async fn session() -> zbus::Result<Connection> {
    if let Some(why) = refused_address("DBUS_SESSION_BUS_ADDRESS") {
        return Err(zbus::Error::Failure(why));
    }
    zbus::connection::Builder::session()
        .method_timeout(CALL_TIMEOUT)
        .build()
        .await
}

/// The system bus, if its address is local; calls time out as on the session bus.
pub async fn system() -> zbus::Result<Connection> {
    if let Some(why) = refused_address("DBUS_SYSTEM_BUS_ADDRESS") {
        return Err(zbus::Error::Failure(why));
    }
    zbus::connection::Builder::system()
        .method_timeout(CALL_TIMEOUT)
        .build()
        .await
}

/// Adds a match rule (signals are not delivered without one).
pub async fn add_match(conn: &Connection, rule: &str) -> zbus::Result<()> {
    conn.call_method(Some(DBUS), DBUS_PATH, Some(DBUS), "AddMatch", &(rule,))
        .await
        .map(|_| ())
}

/// Removes a match rule added with [`add_match`].
pub async fn remove_match(conn: &Connection, rule: &str) -> zbus::Result<()> {
    conn.call_method(Some(DBUS), DBUS_PATH, Some(DBUS), "RemoveMatch", &(rule,))
        .await
        .map(|_| ())
}

/// Whether `name` has an owner on `conn`'s bus.
pub async fn has_owner(conn: &Connection, name: &str) -> bool {
    match conn
        .call_method(Some(DBUS), DBUS_PATH, Some(DBUS), "NameHasOwner", &(name,))
        .await
    {
        Ok(reply) => reply.body().deserialize::<bool>().unwrap_or(false),
        Err(_) => false,
    }
}
