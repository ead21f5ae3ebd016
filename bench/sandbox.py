"""What the parentd benchmarks share: a private system-like bus, python-dbusmock
logind and polkitd, test users in /run/userdb, the real daemon, /proc readers,
and the removal of all of it, even on failure. Used by bench/bench-daemon and
bench/bench-exec; see bench/README.md."""

import contextlib
import ctypes
import json
import os
import platform
import pwd
import grp
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from gi.repository import Gio, GLib

SRCDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = '/usr/bin/python3'
USERDB = '/run/userdb'
CHILD_NAME = 'pdbench-kid'
MOCK_IFACE = 'org.freedesktop.DBus.Mock'
LOGIND = ('org.freedesktop.login1', '/org/freedesktop/login1')
POLKIT = ('org.freedesktop.PolicyKit1', '/org/freedesktop/PolicyKit1/Authority')

BUS_CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
'''


class BenchError(Exception):
    pass


def log(message):
    print(f'{os.path.basename(sys.argv[0])}: {message}', file=sys.stderr, flush=True)

class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.0, self.end - time.monotonic())

    def passed(self):
        return time.monotonic() >= self.end


def wait_for(predicate, timeout, what, interval=0.05):
    '''Polls predicate until it is true; BenchError after timeout seconds.'''
    deadline = Deadline(timeout)
    while True:
        try:
            value = predicate()
        except GLib.Error as e:
            value, last = None, e.message
        else:
            last = repr(value)
        if value:
            return value
        if deadline.passed():
            raise BenchError(f'{what}: not within {timeout:g} s (last: {last})')
        time.sleep(interval)


def die_with_parent():
    '''Children get SIGTERM if this process dies, even by SIGKILL.'''
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# --- /proc -------------------------------------------------------------------

def read_tasks(pid):
    '''{tid: (name, voluntary, nonvoluntary, cpu_ns)} for every thread of pid.'''
    tasks = {}
    try:
        tids = os.listdir(f'/proc/{pid}/task')
    except FileNotFoundError:
        return tasks
    for tid in tids:
        try:
            with open(f'/proc/{pid}/task/{tid}/status', encoding='ascii', errors='replace') as f:
                fields = dict(line.split(':', 1) for line in f if ':' in line)
            with open(f'/proc/{pid}/task/{tid}/schedstat', encoding='ascii') as f:
                cpu_ns = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
        tasks[int(tid)] = (fields['Name'].strip(), int(fields['voluntary_ctxt_switches']),
                           int(fields['nonvoluntary_ctxt_switches']), cpu_ns)
    return tasks


def cpu_ns(pid):
    return sum(t[3] for t in read_tasks(pid).values())


def switches(pid):
    return sum(t[1] + t[2] for t in read_tasks(pid).values())


def memory_kib(pid):
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
        fields = dict(line.split(':', 1) for line in f if ':' in line)
    return {k: int(fields[k].split()[0]) for k in ('VmRSS', 'VmHWM')}


def machine():
    with open('/proc/loadavg', encoding='ascii') as f:
        load = [float(x) for x in f.read().split()[:3]]
    model = ''
    with contextlib.suppress(OSError), open('/proc/cpuinfo', encoding='ascii',
                                            errors='replace') as f:
        for line in f:
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    return {'cpus': os.cpu_count(), 'cpu_model': model, 'kernel': platform.release(),
            'loadavg': load}


# --- the sandbox -----------------------------------------------------------------

class Sandbox:
    '''Everything the benchmark starts or creates, and its removal.'''

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix='parentd-bench-')
        os.chmod(self.tmp, 0o755)
        self.procs = []              # (name, Popen), stopped in reverse order
        self.userdb_files = []       # (path, what it must still be to be ours)
        self.conn = None
        self.notify = None
        self.daemon = None
        self.daemon_log = os.path.join(self.tmp, 'parentd.log')
        self.address = None

    # -- processes

    def spawn(self, name, argv, env, logname=None, **kw):
        logf = open(os.path.join(self.tmp, logname or f'{name}.log'), 'a', encoding='utf-8')
        try:
            proc = subprocess.Popen(argv, env=env, stdout=kw.pop('stdout', logf),
                                    stderr=logf, stdin=subprocess.DEVNULL,
                                    preexec_fn=die_with_parent, **kw)
        finally:
            logf.close()
        self.procs.append((name, proc))
        return proc

    def base_env(self):
        env = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'LC_ALL': 'C.UTF-8', 'HOME': '/root',
               'DBUS_SYSTEM_BUS_ADDRESS': self.address}
        if 'TZ' in os.environ:
            env['TZ'] = os.environ['TZ']
        return env

    def close(self):
        if self.conn is not None:
            with contextlib.suppress(GLib.Error):
                self.conn.close_sync(None)
            self.conn = None
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    log(f'{name} ignored SIGTERM; killing it')
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs = []
        if self.notify is not None:
            self.notify.close()
        for path, target in reversed(self.userdb_files):
            # Remove only what is still ours: a test may have replaced it.
            with contextlib.suppress(OSError):
                if os.path.islink(path) and os.readlink(path) == target:
                    os.unlink(path)
                elif not os.path.islink(path) and target is None:
                    os.unlink(path)
        self.userdb_files = []
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the bus

    def start_bus(self):
        sock = os.path.join(self.tmp, 'system_bus_socket')
        config = os.path.join(self.tmp, 'bus.conf')
        with open(config, 'w', encoding='utf-8') as f:
            f.write(BUS_CONFIG.format(socket=sock))
        proc = self.spawn('dbus-daemon', ['dbus-daemon', '--config-file', config, '--nofork',
                                           '--nopidfile', '--print-address=1'],
                          {'PATH': '/usr/bin:/bin'}, stdout=subprocess.PIPE)
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        if not ready or not proc.stdout.readline():
            raise BenchError('dbus-daemon did not start; see bus log')
        self.bus_pid = proc.pid
        self.address = f'unix:path={sock}'
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = self.address
        self.conn = Gio.DBusConnection.new_for_address_sync(
            self.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.conn.set_exit_on_close(False)

    def call(self, dest, path, iface, method, params=None, timeout_ms=10000):
        reply = self.conn.call_sync(dest, path, iface, method, params, None,
                                    Gio.DBusCallFlags.NONE, timeout_ms, None)
        return reply.unpack() if reply is not None else None

    def has_owner(self, name):
        return self.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                         'NameHasOwner', GLib.Variant('(s)', (name,)))[0]

    def wait_name(self, name, proc, timeout=15):
        def owned():
            if proc.poll() is not None:
                raise BenchError(f'{name}: its process exited with {proc.returncode}')
            return self.has_owner(name)
        wait_for(owned, timeout, f'{name} appears on the bus')

    def mock(self, target, method, params=None):
        return self.call(target[0], target[1], MOCK_IFACE, method, params)

    # -- mocks, users

    def start_mocks(self):
        for template, target in (('logind', LOGIND), ('polkitd', POLKIT)):
            proc = self.spawn(template, [PYTHON, '-m', 'dbusmock', '--system', '--template',
                                         template], self.base_env())
            self.wait_name(target[0], proc)
            if template == 'polkitd':
                self.polkit_pid = proc.pid
        self.mock(POLKIT, 'SetAllowed', GLib.Variant('(as)', (['org.parentd1.view'],)))

    def create_user(self, uid, user_name=CHILD_NAME):
        '''A user and group uid named user_name in /run/userdb, refused if either
        is taken, removed by close() only if the files are still ours.'''
        for check, what in ((lambda: pwd.getpwuid(uid), f'uid {uid}'),
                            (lambda: pwd.getpwnam(user_name), user_name),
                            (lambda: grp.getgrgid(uid), f'gid {uid}')):
            try:
                entry = check()
            except KeyError:
                continue
            raise BenchError(f'{what} already has an entry ({entry[0]}); another test or demo may '
                             f'be using it: pass --uid with a free uid')
        os.makedirs(USERDB, exist_ok=True)
        user = {'userName': user_name, 'uid': uid, 'gid': uid, 'homeDirectory': '/nonexistent',
                'shell': '/usr/sbin/nologin', 'disposition': 'regular'}
        group = {'groupName': user_name, 'gid': uid}
        for name, link, data in ((f'{user_name}.user', f'{uid}.user', user),
                                 (f'{user_name}.group', f'{uid}.group', group)):
            path, linkpath = os.path.join(USERDB, name), os.path.join(USERDB, link)
            if os.path.lexists(path) or os.path.lexists(linkpath):
                raise BenchError(f'{path} or {linkpath} exists already; pass --uid with a free uid')
            with open(path, 'x', encoding='utf-8') as f:
                self.userdb_files.append((path, None))
                json.dump(data, f)
            os.symlink(name, linkpath)
            self.userdb_files.append((linkpath, name))
        if pwd.getpwuid(uid).pw_name != user_name:
            raise BenchError(f'uid {uid} does not resolve to {user_name} (is libnss-systemd '
                             f'installed and "systemd" in /etc/nsswitch.conf?)')

    # -- the daemon

    def start_daemon(self, parentd, uid, watchdog_sec, config=None, dropins=None):
        '''The real daemon, once READY=1 has arrived and org.parentd1 has an owner.
        config is the text of parentd.conf (default: uid as the child CHILD_NAME
        with daily_limit = 2h); dropins maps file names in parentd.conf.d to text.'''
        etc = os.path.join(self.tmp, 'etc')
        os.makedirs(os.path.join(etc, 'parentd.conf.d'))
        conf = os.path.join(etc, 'parentd.conf')
        with open(conf, 'w', encoding='utf-8') as f:
            f.write(config if config is not None
                    else f'[child {CHILD_NAME}]\nuid = {uid}\ndaily_limit = 2h\n')
        for name, text in (dropins or {}).items():
            with open(os.path.join(etc, 'parentd.conf.d', name), 'w', encoding='utf-8') as f:
                f.write(text)
        notify_path = os.path.join(self.tmp, 'notify')
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify_path)
        env = dict(self.base_env(), NOTIFY_SOCKET=notify_path)
        if watchdog_sec:
            env['WATCHDOG_USEC'] = str(int(watchdog_sec * 1e6))
        argv = [parentd, '--config', conf, '--config-dir', etc,
                '--rules-dir', os.path.join(SRCDIR, 'policy', 'rules.d'),
                '--state-dir', os.path.join(self.tmp, 'state')]
        self.daemon = self.spawn('parentd', argv, env, logname='parentd.log')
        deadline = Deadline(15)
        while True:
            if any('READY=1' in m.split('\n') for _, m in self.read_notify(0.2)):
                break
            if self.daemon.poll() is not None:
                raise BenchError(f'parentd exited with {self.daemon.returncode} before READY=1')
            if deadline.passed():
                raise BenchError('parentd sent no READY=1 within 15 s')
        self.wait_name('org.parentd1', self.daemon)
        return self.daemon.pid

    def read_notify(self, timeout):
        '''[(monotonic time, message)] that arrive within timeout seconds.'''
        messages = []
        ready, _, _ = select.select([self.notify], [], [], timeout)
        while ready:
            messages.append((time.monotonic(), self.notify.recv(4096).decode('utf-8', 'replace')))
            ready, _, _ = select.select([self.notify], [], [], 0)
        return messages

    def daemon_log_tail(self, lines=30):
        with contextlib.suppress(OSError), open(self.daemon_log, encoding='utf-8',
                                                errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
        return ''


# --- the child and its session ------------------------------------------------------

def child_prop(sb, uid, name):
    return sb.call('org.parentd1', f'/org/parentd1/child/{uid}',
                   'org.freedesktop.DBus.Properties', 'Get',
                   GLib.Variant('(ss)', ('org.parentd1.Child', name)))[0]


def start_session(sb, uid):
    path = sb.mock(LOGIND, 'AddSession', GLib.Variant('(ssusb)', ('c1', 'seat0', uid, CHILD_NAME,
                                                                  True)))[0]
    sb.call(LOGIND[0], path, MOCK_IFACE, 'UpdateProperties', GLib.Variant('(sa{sv})', (
        'org.freedesktop.login1.Session',
        {'Type': GLib.Variant('s', 'x11'), 'Class': GLib.Variant('s', 'user'),
         'IdleHint': GLib.Variant('b', False), 'LockedHint': GLib.Variant('b', False)})))
    # The template's AddSession announces nothing; real logind does.
    sb.mock(LOGIND, 'EmitSignal', GLib.Variant('(sssav)', (
        'org.freedesktop.login1.Manager', 'SessionNew', 'so',
        [GLib.Variant('s', 'c1'), GLib.Variant('o', path)])))
    wait_for(lambda: child_prop(sb, uid, 'Counting'), 10, 'the child counts')


def wait_quiet(pid, quiet, timeout):
    '''Until pid's threads have not switched for quiet seconds.'''
    deadline = Deadline(timeout)
    last, since = switches(pid), time.monotonic()
    while time.monotonic() - since < quiet:
        if deadline.passed():
            raise BenchError(f'parentd was not quiet for {quiet:g} s within {timeout:g} s')
        time.sleep(0.05)
        now = switches(pid)
        if now != last:
            last, since = now, time.monotonic()

def cpu_list(text):
    cpus = set()
    for part in text.split(','):
        first, _, last = part.partition('-')
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus
