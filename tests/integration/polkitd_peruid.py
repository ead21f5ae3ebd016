'''polkitd mock template that decides per caller

Like dbusmock's own polkitd template (SetAllowed, AllowUnknown,
SimulateHang, ReleaseHangingCalls), but it also resolves the subject of each
CheckAuthorization to a uid and can allow actions per uid
(SetAllowedForUid), so that "a parent with polkit yes" and "a user with
polkit no" can be tested against one daemon. uid 0 is always authorized, as
with the real polkitd. GetChecks lists (uid, action, allowed) of every
check, so a test can see that the daemon asked about the right caller.
'''

import dbus

from dbusmock import MOCK_IFACE

BUS_NAME = 'org.freedesktop.PolicyKit1'
MAIN_OBJ = '/org/freedesktop/PolicyKit1/Authority'
MAIN_IFACE = 'org.freedesktop.PolicyKit1.Authority'
SYSTEM_BUS = True


def load(mock, _parameters):
    mock.AddProperties(MAIN_IFACE,
                       dbus.Dictionary({
                           'BackendName': 'local',
                           'BackendVersion': '0.8.15',
                           'BackendFeatures': dbus.UInt32(1, variant_level=1),
                       }, signature='sv'))
    mock.allow_unknown = False
    mock.allowed = []
    mock.allowed_by_uid = {}
    mock.simulate_hang = False
    mock.hanging_calls = []
    mock.checks = []


def _uid_of_pid(pid):
    with open(f'/proc/{int(pid)}/status', encoding='ascii') as f:
        for line in f:
            if line.startswith('Uid:'):
                return int(line.split()[1])
    return -1


def _subject_uid(self, subject):
    kind, details = subject
    if kind == 'system-bus-name':
        return int(self.connection.call_blocking(
            'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
            'GetConnectionUnixUser', 's', [str(details['name'])]))
    if kind == 'unix-process':
        if 'uid' in details and int(details['uid']) >= 0:
            return int(details['uid'])
        return _uid_of_pid(details['pid'])
    if kind == 'unix-user':
        return int(details['uid'])
    return -1


@dbus.service.method(MAIN_IFACE,
                     in_signature='(sa{sv})sa{ss}us',
                     out_signature='(bba{ss})',
                     async_callbacks=('ok_cb', '_err_cb'))
def CheckAuthorization(self, subject, action_id, _details, _flags, _cancellation_id,
                       ok_cb, _err_cb):
    try:
        uid = _subject_uid(self, subject)
    except (dbus.exceptions.DBusException, OSError, KeyError, ValueError):
        uid = -1
    allowed = (uid == 0 or action_id in self.allowed
               or action_id in self.allowed_by_uid.get(uid, [])
               or self.allow_unknown)
    self.checks.append((dbus.UInt32(uid if uid >= 0 else 0xffffffff),
                        str(action_id), dbus.Boolean(allowed)))
    ret = (dbus.Boolean(allowed), dbus.Boolean(False), dbus.Dictionary({}, signature='ss'))
    if self.simulate_hang:
        self.hanging_calls.append((ok_cb, ret))
    else:
        ok_cb(ret)


@dbus.service.method(MAIN_IFACE, in_signature='s', out_signature='')
def CancelCheckAuthorization(_self, _cancellation_id):
    pass


@dbus.service.method(MAIN_IFACE, in_signature='(sa{sv})ss')
def RegisterAuthenticationAgent(_self, _subject, _locale, _object_path):
    pass


@dbus.service.method(MOCK_IFACE, in_signature='b', out_signature='')
def AllowUnknown(self, default):
    '''Allow every action not otherwise allowed'''
    self.allow_unknown = default


@dbus.service.method(MOCK_IFACE, in_signature='as', out_signature='')
def SetAllowed(self, actions):
    '''Allow these actions to every caller'''
    self.allowed = [str(a) for a in actions]


@dbus.service.method(MOCK_IFACE, in_signature='uas', out_signature='')
def SetAllowedForUid(self, uid, actions):
    '''Allow these actions to callers with this uid'''
    self.allowed_by_uid[int(uid)] = [str(a) for a in actions]


@dbus.service.method(MOCK_IFACE, in_signature='b', out_signature='')
def SimulateHang(self, hang):
    '''Make CheckAuthorization never answer (until ReleaseHangingCalls)'''
    self.simulate_hang = hang


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def ReleaseHangingCalls(self):
    '''Answer every hanging call'''
    for (cb, ret) in self.hanging_calls:
        cb(ret)
    self.hanging_calls = []


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='u')
def HangingCalls(self):
    '''How many calls hang'''
    return dbus.UInt32(len(self.hanging_calls))


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='a(usb)')
def GetChecks(self):
    '''Every check so far: uid (0xffffffff: unknown), action, answer'''
    return dbus.Array(self.checks, signature='(usb)')


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def ClearChecks(self):
    '''Forget the checks so far'''
    self.checks = []
