# The private bus and the dbusmock services on it, for the integration
# harness: a system-like dbus-daemon, logind and polkitd mocks with helpers
# (sessions, signals, method calls seen; per-uid polkit answers, hangs), and
# the waiting helpers everything uses.

import os
import select
import subprocess
import time

from gi.repository import Gio, GLib

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = '/usr/bin/python3'
POLKIT_TEMPLATE = os.path.join(HERE, 'polkitd_peruid.py')

LOGIND = 'org.freedesktop.login1'
LOGIND_PATH = '/org/freedesktop/login1'
POLKIT = 'org.freedesktop.PolicyKit1'
POLKIT_PATH = '/org/freedesktop/PolicyKit1/Authority'
MOCK_IFACE = 'org.freedesktop.DBus.Mock'


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.0, self.end - time.monotonic())

    def passed(self):
        return time.monotonic() >= self.end


def assert_eventually(predicate, timeout=5.0, message=None, interval=0.05):
    '''Polls predicate until it returns something true, and returns that.
    An AssertionError raised by predicate counts as "not yet". Fails with
    message (a string or a callable giving one) after timeout seconds.'''
    deadline = Deadline(timeout)
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = f'last value: {value!r}'
        except AssertionError as e:
            last = str(e)
        except GLib.Error as e:
            last = f'D-Bus error: {e.message}'
        if deadline.passed():
            text = message() if callable(message) else (message or 'condition')
            raise AssertionError(f'not true within {timeout:g} s: {text} ({last})')
        time.sleep(interval)


def assert_stays(predicate, duration, message=None, interval=0.1):
    '''predicate holds for duration seconds (for "this does not happen").'''
    deadline = Deadline(duration)
    while not deadline.passed():
        value = predicate()
        if not value:
            text = message() if callable(message) else (message or 'condition')
            raise AssertionError(f'stopped holding: {text} (value {value!r})')
        time.sleep(interval)


def _variant_for(value):
    if isinstance(value, GLib.Variant):
        return value
    if isinstance(value, bool):
        return GLib.Variant('b', value)
    if isinstance(value, str):
        return GLib.Variant('s', value)
    if isinstance(value, int):
        return GLib.Variant('u', value)
    raise TypeError(f'no variant type for {value!r}')

# --- bus ----------------------------------------------------------------------

BUS_CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
'''


class Bus:
    def __init__(self, directory, config_template=BUS_CONFIG, **subst):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.socket = os.path.join(directory, 'system_bus_socket')
        self.address = f'unix:path={self.socket}'
        self.config = os.path.join(directory, 'bus.conf')
        with open(self.config, 'w', encoding='utf-8') as f:
            f.write(config_template.format(socket=self.socket, dir=directory, **subst))
        self.log = os.path.join(directory, 'bus.log')
        self.proc = None
        self.conn = None

    def start(self):
        logf = open(self.log, 'w', encoding='utf-8')
        self.proc = subprocess.Popen(['dbus-daemon', '--config-file', self.config, '--nofork',
                                      '--nopidfile', '--print-address=1'],
                                     stdout=subprocess.PIPE, stderr=logf, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = Deadline(10)
        ready, _, _ = select.select([self.proc.stdout], [], [], deadline.left())
        line = self.proc.stdout.readline() if ready else b''
        if not line:
            raise RuntimeError(f'dbus-daemon did not start: {open(self.log).read()}')
        self.conn = self.connect()

    def connect(self):
        flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                 | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
        conn = Gio.DBusConnection.new_for_address_sync(self.address, flags, None, None)
        conn.set_exit_on_close(False)
        return conn

    def has_owner(self, name):
        return self.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                         'NameHasOwner', GLib.Variant('(s)', (name,)))[0]

    def wait_name(self, name, present=True, timeout=10.0):
        assert_eventually(lambda: self.has_owner(name) == present, timeout,
                          f'{name} {"appears" if present else "leaves"} on the bus')

    def call(self, dest, path, iface, method, params=None, timeout_ms=10000):
        result = self.conn.call_sync(dest, path, iface, method, params, None,
                                     Gio.DBusCallFlags.NONE, timeout_ms, None)
        return result.unpack() if result is not None else None

    def stop(self):
        if self.conn is not None:
            try:
                self.conn.close_sync(None)
            except GLib.Error:
                pass
            self.conn = None
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None


# --- mocks ----------------------------------------------------------------------

class Mock:
    '''A python-dbusmock template on bus, as a subprocess.'''

    def __init__(self, bus, template, name, log):
        self.bus = bus
        self.template = template
        self.name = name
        self.log = log
        self.proc = None

    def start(self):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
        logf = open(self.log, 'a', encoding='utf-8')
        self.proc = subprocess.Popen([PYTHON, '-m', 'dbusmock', '--system', '--template',
                                      self.template], env=env, stdout=logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        self.bus.wait_name(self.name, True)

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self.bus.wait_name(self.name, False)

    def kill(self):
        '''Gone at once, as if it crashed.'''
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.bus.wait_name(self.name, False)

    def mock_call(self, path, method, params=None):
        return self.bus.call(self.name, path, MOCK_IFACE, method, params)


class Logind(Mock):
    def __init__(self, bus, log):
        super().__init__(bus, 'logind', LOGIND, log)

    @staticmethod
    def session_path(sid):
        return f'{LOGIND_PATH}/session/{sid}'

    def reset(self):
        self.mock_call(LOGIND_PATH, 'Reset')

    def emit(self, path, iface, name, signature, args):
        self.mock_call(path, 'EmitSignal',
                       GLib.Variant('(sssav)', (iface, name, signature,
                                                [_variant_for(a) for a in args])))

    def add_session(self, sid, user, active=True, type='x11', cls='user', idle=False,
                    locked=False, announce=True):
        '''A session of user; announce emits SessionNew as real logind does.'''
        path = self.mock_call(LOGIND_PATH, 'AddSession',
                              GLib.Variant('(ssusb)', (sid, 'seat0', user.uid, user.name,
                                                       active)))[0]
        self.mock_call(path, 'UpdateProperties', GLib.Variant('(sa{sv})', (
            'org.freedesktop.login1.Session',
            {'Type': GLib.Variant('s', type), 'Class': GLib.Variant('s', cls),
             'IdleHint': GLib.Variant('b', idle), 'LockedHint': GLib.Variant('b', locked)})))
        if announce:
            self.emit(LOGIND_PATH, 'org.freedesktop.login1.Manager', 'SessionNew', 'so',
                      [sid, GLib.Variant('o', path)])
        return path

    def remove_session(self, sid):
        path = self.session_path(sid)
        self.mock_call(LOGIND_PATH, 'RemoveObject', GLib.Variant('(o)', (path,)))
        self.emit(LOGIND_PATH, 'org.freedesktop.login1.Manager', 'SessionRemoved', 'so',
                  [sid, GLib.Variant('o', path)])

    def set_props(self, sid, props):
        '''Mock.UpdateProperties, which also emits PropertiesChanged.'''
        self.mock_call(self.session_path(sid), 'UpdateProperties', GLib.Variant('(sa{sv})', (
            'org.freedesktop.login1.Session', {k: _variant_for(v) for k, v in props.items()})))

    def prepare_for_sleep(self, sleeping):
        self.mock_call(LOGIND_PATH, 'UpdateProperties', GLib.Variant('(sa{sv})', (
            'org.freedesktop.login1.Manager', {'PreparingForSleep': GLib.Variant('b', sleeping)})))
        self.emit(LOGIND_PATH, 'org.freedesktop.login1.Manager', 'PrepareForSleep', 'b',
                  [sleeping])

    def calls(self, path):
        '''[(time, method, args)] of the mock object at path.'''
        return self.mock_call(path, 'GetCalls')[0]

    def lock_calls(self, sid):
        '''How often the daemon asked logind to lock session sid (Session.Lock
        or Manager.LockSession).'''
        n = sum(1 for _, m, _a in self.calls(self.session_path(sid)) if m == 'Lock')
        n += sum(1 for _, m, a in self.calls(LOGIND_PATH)
                 if m == 'LockSession' and a and a[0] == sid)
        return n

    def terminate_calls(self, sid):
        n = sum(1 for _, m, _a in self.calls(self.session_path(sid)) if m == 'Terminate')
        n += sum(1 for _, m, a in self.calls(LOGIND_PATH)
                 if m in ('TerminateSession', 'KillSession') and a and a[0] == sid)
        return n


class Polkit(Mock):
    def __init__(self, bus, log):
        super().__init__(bus, POLKIT_TEMPLATE, POLKIT, log)

    def reset(self):
        self.mock_call(POLKIT_PATH, 'Reset')

    def allow(self, user, actions):
        self.mock_call(POLKIT_PATH, 'SetAllowedForUid', GLib.Variant('(uas)', (user.uid, actions)))

    def hang(self, on=True):
        self.mock_call(POLKIT_PATH, 'SimulateHang', GLib.Variant('(b)', (on,)))

    def release(self):
        self.mock_call(POLKIT_PATH, 'ReleaseHangingCalls')

    def hanging(self):
        return self.mock_call(POLKIT_PATH, 'HangingCalls')[0]

    def checks(self):
        return self.mock_call(POLKIT_PATH, 'GetChecks')[0]
