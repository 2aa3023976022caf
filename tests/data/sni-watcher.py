#!/usr/bin/python3
'''A StatusNotifierWatcher stand-in and a tray host's hands, for dwell's tray test.

  sni-watcher.py serve               own org.kde.StatusNotifierWatcher on the session bus;
                                     print "registered SERVICE" for each item that registers,
                                     and "signal MEMBER ARGS..." for each signal of an item or
                                     its menu (NewIcon, NewToolTip, LayoutUpdated, ...)
  sni-watcher.py tooltip SERVICE     print the item's IconName, then its ToolTip's title and text
  sni-watcher.py menu SERVICE        print the item's menu: "ID<TAB>LABEL<TAB>ENABLED" a line
  sni-watcher.py click SERVICE LABEL send com.canonical.dbusmenu Event(id, "clicked", ...) to
                                     the menu entry labelled LABEL, as a tray host does

Everything goes through the session bus of DBUS_SESSION_BUS_ADDRESS.
'''

import sys

import dbus

WATCHER = 'org.kde.StatusNotifierWatcher'
WATCHER_PATH = '/StatusNotifierWatcher'
ITEM = 'org.kde.StatusNotifierItem'
ITEM_PATH = '/StatusNotifierItem'
MENU = 'com.canonical.dbusmenu'
PROPS = 'org.freedesktop.DBus.Properties'


def serve():
    import dbus.service
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib

    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()

    class Watcher(dbus.service.Object):
        def __init__(self):
            super().__init__(bus, WATCHER_PATH)
            self.items = []

        @dbus.service.method(WATCHER, in_signature='s', out_signature='',
                             sender_keyword='sender')
        def RegisterStatusNotifierItem(self, service, sender=None):
            # A path means "this object of the caller"; a name is the item's bus name.
            name = sender + service if service.startswith('/') else service
            if name not in self.items:
                self.items.append(name)
            print('registered', name, flush=True)
            self.StatusNotifierItemRegistered(name)

        @dbus.service.method(WATCHER, in_signature='s', out_signature='')
        def RegisterStatusNotifierHost(self, service):
            pass

        @dbus.service.signal(WATCHER, signature='s')
        def StatusNotifierItemRegistered(self, service):
            pass

        @dbus.service.method(PROPS, in_signature='ss', out_signature='v')
        def Get(self, interface, prop):
            return self.GetAll(interface)[prop]

        @dbus.service.method(PROPS, in_signature='s', out_signature='a{sv}')
        def GetAll(self, interface):
            return {
                'RegisteredStatusNotifierItems': dbus.Array(self.items, signature='s'),
                'IsStatusNotifierHostRegistered': dbus.Boolean(True),
                'ProtocolVersion': dbus.Int32(0),
            }

    def on_signal(*args, member=None):
        print('signal', member, *[str(a) for a in args], flush=True)

    for interface in (ITEM, MENU):
        bus.add_signal_receiver(on_signal, dbus_interface=interface, member_keyword='member')

    watcher = Watcher()
    # The object is served before the name is taken: an item that sees the name
    # can register at once.
    name = dbus.service.BusName(WATCHER, bus, do_not_queue=True)
    print('watching', flush=True)
    GLib.MainLoop().run()
    del watcher, name


def item_prop(bus, service, prop):
    obj = bus.get_object(service, ITEM_PATH)
    return obj.Get(ITEM, prop, dbus_interface=PROPS)


def menu_entries(bus, service):
    path = item_prop(bus, service, 'Menu')
    menu = bus.get_object(service, path)
    _revision, layout = menu.GetLayout(0, -1, dbus.Array([], signature='s'),
                                       dbus_interface=MENU)
    entries = []

    def walk(node):
        ident, props, children = node
        if 'label' in props:
            entries.append((int(ident), str(props['label']), bool(props.get('enabled', True))))
        for child in children:
            walk(child)

    walk(layout)
    return path, entries


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    if argv[1] == 'serve':
        serve()
        return
    bus = dbus.SessionBus()
    service = argv[2]
    if argv[1] == 'tooltip':
        print(item_prop(bus, service, 'IconName'))
        _icon, _pixmaps, title, text = item_prop(bus, service, 'ToolTip')
        print(title)
        print(text)
    elif argv[1] == 'menu':
        for ident, label, enabled in menu_entries(bus, service)[1]:
            print(f'{ident}\t{label}\t{enabled}')
    elif argv[1] == 'click':
        path, entries = menu_entries(bus, service)
        ids = [ident for ident, label, _ in entries if label == argv[3]]
        if not ids:
            sys.exit(f'no menu entry {argv[3]!r} in {entries}')
        menu = bus.get_object(service, path)
        menu.Event(dbus.Int32(ids[0]), 'clicked', dbus.Int32(0, variant_level=1),
                   dbus.UInt32(0), dbus_interface=MENU)
        print('clicked', ids[0])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
