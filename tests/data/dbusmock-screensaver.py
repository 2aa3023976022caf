'''org.freedesktop.ScreenSaver mock for dwell's end-to-end tests

python3 -m dbusmock --template THIS_FILE   (on the session bus)

GetActive() -> b, SetActive(b) -> b (emits ActiveChanged(b) when the state changes),
GetActiveTime() -> u, Inhibit(ss) -> u, UnInhibit(u), SimulateUserActivity().
'''

BUS_NAME = 'org.freedesktop.ScreenSaver'
MAIN_OBJ = '/org/freedesktop/ScreenSaver'
MAIN_IFACE = 'org.freedesktop.ScreenSaver'
SYSTEM_BUS = False


def load(mock, _parameters):
    mock.AddMethods(MAIN_IFACE, [
        ('GetActive', '', 'b', 'ret = self.dwell_active'),
        ('SetActive', 'b', 'b',
         'changed = bool(args[0]) != self.dwell_active\n'
         'self.dwell_active = bool(args[0])\n'
         'if changed:\n'
         '    self.EmitSignal("", "ActiveChanged", "b", [self.dwell_active])\n'
         'ret = True'),
        ('GetActiveTime', '', 'u', 'ret = 0'),
        ('Inhibit', 'ss', 'u', 'ret = 1'),
        ('UnInhibit', 'u', '', ''),
        ('SimulateUserActivity', '', '', ''),
    ])
    mock.dwell_active = False
