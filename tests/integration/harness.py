# The integration harness: a private system-like bus, python-dbusmock logind
# and polkitd on it, test users from /run/userdb drop-ins, the real parentd
# with its readiness on a notify socket, clients that run as a test user,
# and a unittest runner that prints TAP for automake's driver.
#
# A test file does
#     import harness
#     class T(harness.TestCase): ...
#     if __name__ == '__main__': sys.exit(harness.main('cnt', 62000))
# where 'cnt' names its test users (kid1-cnt, ...) and 62000 is where their
# uids start: each file has its own range of 20 blocks of 10 uids, and each
# run locks a block, so that files, and even two runs of one file, can run
# at the same time (make -j, two build trees).
#
# Environment: top_srcdir, top_builddir (set by make check); PARENTD (the
# daemon binary), PARENTD_WRAPPER (e.g. "valgrind -q"), PARENTD_IT_KEEP=1
# (keep the temporary files), PARENTD_IT_TEST_TIMEOUT (seconds a test may
# take, default 150). Arguments: substrings of the test names to run.

import atexit
import importlib.util
import json
import os
import pwd
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import unittest

from gi.repository import GLib

from busmocks import (  # noqa: F401 - re-exported for the tests
    LOGIND, LOGIND_PATH, MOCK_IFACE, POLKIT, POLKIT_PATH, PYTHON, Bus, Deadline, Logind,
    Mock, Polkit, assert_eventually, assert_stays)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get('top_srcdir') or os.path.dirname(os.path.dirname(HERE))
TOP_BUILDDIR = os.environ.get('top_builddir') or TOP_SRCDIR
PARENTD = os.environ.get('PARENTD') or os.path.join(TOP_BUILDDIR, 'daemon', 'parentd')
AGENT = os.path.join(HERE, 'agent.py')
USERDB = '/run/userdb'

MANAGE = 'org.parentd1.manage'
VIEW = 'org.parentd1.view'
BUS_NAME = 'org.parentd1'
MANAGER_PATH = '/org/parentd1'
MANAGER_IFACE = 'org.parentd1.Manager'
CHILD_IFACE = 'org.parentd1.Child'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'

ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs'
INVALID_CONFIG = 'org.parentd1.Error.InvalidConfig'
NO_SUCH_CHILD = 'org.parentd1.Error.NoSuchChild'
NO_SUCH_REQUEST = 'org.parentd1.Error.NoSuchRequest'
TOO_MANY_REQUESTS = 'org.parentd1.Error.TooManyRequests'


LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1'


def faketime_env(spec):
    '''Environment that runs a program under libfaketime (preloaded
    directly: the faketime wrapper forks, so a signal to it would not reach
    the daemon). spec as in FAKETIME: "@2026-06-01 03:59:50", "+0 x20".'''
    return {'LD_PRELOAD': LIBFAKETIME, 'FAKETIME': spec, 'FAKETIME_DONT_RESET': '1'}


# The sanitizer stage of tools/test exports ASAN_OPTIONS; the daemon under
# test is then an ASan build.
SANITIZED = 'ASAN_OPTIONS' in os.environ


def require_faketime(test):
    '''Skip a test that needs libfaketime where it cannot work: not
    installed, or an ASan build. Debian 12's libfaketime 0.9.10 can deadlock
    in its own initialisation when a runtime that intercepts malloc (ASan
    here) calls clock_gettime first; CI saw it hang every such start. The
    gcc stage runs these tests.'''
    if not os.path.exists(LIBFAKETIME):
        test.skipTest('libfaketime is not installed')
    if SANITIZED:
        test.skipTest('libfaketime 0.9.10 can deadlock at start under AddressSanitizer; '
                      'the gcc build runs this test')


def signame(rc):
    '''A Popen returncode in words: "SIGKILL", "exit 0", "still running".'''
    if rc is None:
        return 'still running'
    if rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f'signal {-rc}'
    return f'exit {rc}'


def compile_helper(src, out, flags=()):
    '''Builds a test's C helper with the machine's cc into out (mode 755):
    None, or why it could not.'''
    cc = shutil.which('cc') or shutil.which('gcc')
    if cc is None:
        return f'no C compiler (cc) to build {os.path.basename(src)}'
    r = subprocess.run([cc, '-O2', '-o', out, src] + list(flags), capture_output=True, text=True,
                       timeout=120, check=False)
    if r.returncode != 0:
        return f'cc {" ".join(flags)} {os.path.basename(src)} failed: {r.stderr.strip()[-300:]}'
    os.chmod(out, 0o755)
    return None


class Watched:
    '''A process a test started, watched through a pidfd, so that the
    moment of its death is known to a few milliseconds.'''

    def __init__(self, popen, label):
        self.popen = popen
        self.pid = popen.pid
        self.label = label
        self.pidfd = os.pidfd_open(popen.pid)
        self.died_at = None       # time.monotonic()
        self.died_wall = None     # time.time()

    def dead(self, timeout=0.0):
        '''Whether it has died, waiting up to timeout seconds.'''
        if self.died_at is None:
            if self.pidfd is None:
                # kill_group gave up waiting: the exit status is all there is.
                if self.popen.poll() is None:
                    return False
            else:
                ready, _, _ = select.select([self.pidfd], [], [], max(0.0, timeout))
                if not ready:
                    return False
                self.popen.wait()
            self.died_at = time.monotonic()
            self.died_wall = time.time()
        return True

    @property
    def returncode(self):
        return self.popen.returncode

    def kill_group(self):
        '''Kills it and what it left in its process group (a spawner's
        games, a shell's sleep), or it alone when it leads no group.'''
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            if not self.dead():
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def child_path(uid):
    return f'/org/parentd1/child/{uid}'


# --- users ------------------------------------------------------------------

class User:
    def __init__(self, name, uid):
        self.name = name
        self.uid = uid

    def __repr__(self):
        return f'{self.name}({self.uid})'


class Users:
    '''kid1, kid2, parent and stranger as userdb drop-ins in /run/userdb.

    Each run takes a block of 10 uids that no user has, from base_uid on,
    and holds it with a lock file naming its pid, so that the same test
    file can run twice at once (two build trees on one machine).'''

    ROLES = ('kid1', 'kid2', 'parent', 'stranger')
    BLOCKS = 20

    def __init__(self, tag, base_uid):
        self.tag = tag
        self.base_uid = base_uid
        self.all = []
        self.files = []
        self.lock = None

    @staticmethod
    def _taken(name, uid):
        '''By someone else: a drop-in of this name is one a dead run left.'''
        if os.path.exists(os.path.join(USERDB, f'{name}.user')):
            return False
        for lookup, key in ((pwd.getpwnam, name), (pwd.getpwuid, uid)):
            try:
                lookup(key)
                return True
            except KeyError:
                pass
        return False

    def _claim(self, block):
        path = os.path.join(USERDB, f'.parentd-it-{self.base_uid + 10 * block}.lock')
        for _ in range(2):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                try:
                    with open(path, encoding='ascii') as f:
                        os.kill(int(f.read().strip() or 0), 0)
                    return None         # held by a live run
                except (ProcessLookupError, ValueError, FileNotFoundError):
                    try:
                        os.unlink(path)  # left by a run that died
                    except FileNotFoundError:
                        pass
                    continue
                except PermissionError:
                    return None
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return path
        return None

    def create(self):
        os.makedirs(USERDB, exist_ok=True)
        for block in range(self.BLOCKS):
            base = self.base_uid + 10 * block
            suffix = '' if block == 0 else str(block)
            names = [(f'{role}-{self.tag}{suffix}', base + 1 + i)
                     for i, role in enumerate(self.ROLES)]
            self.lock = self._claim(block)
            if self.lock is None:
                continue
            if not any(self._taken(n, u) for n, u in names):
                break
            os.unlink(self.lock)
            self.lock = None
        else:
            raise RuntimeError(f'no free block of test uids from {self.base_uid}')
        for role, (name, uid) in zip(self.ROLES, names):
            user = User(name, uid)
            setattr(self, role, user)
            self.all.append(user)
        for u in self.all:
            user = {'userName': u.name, 'uid': u.uid, 'gid': u.uid,
                    'homeDirectory': '/nonexistent', 'shell': '/usr/sbin/nologin',
                    'disposition': 'regular'}
            group = {'groupName': u.name, 'gid': u.uid}
            for name, link, data in ((f'{u.name}.user', f'{u.uid}.user', user),
                                     (f'{u.name}.group', f'{u.uid}.group', group)):
                path = os.path.join(USERDB, name)
                linkpath = os.path.join(USERDB, link)
                self.files += [path, linkpath]
                with open(path + '.tmp', 'w', encoding='utf-8') as f:
                    json.dump(data, f)
                os.replace(path + '.tmp', path)
                if os.path.lexists(linkpath):
                    os.unlink(linkpath)
                os.symlink(name, linkpath)
        for u in self.all:
            entry = pwd.getpwnam(u.name)
            if entry.pw_uid != u.uid:
                raise RuntimeError(f'{u.name} resolves to uid {entry.pw_uid}, not {u.uid}')

    def remove(self):
        for path in self.files + ([self.lock] if self.lock else []):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        self.files = []
        self.lock = None


# --- clients as a test user ---------------------------------------------------

class CallResult:
    def __init__(self, answer):
        self.ok = answer['ok']
        self.value = answer.get('value')
        self.error = answer.get('error')
        self.message = answer.get('message')
        self.elapsed = answer.get('elapsed')

    def __repr__(self):
        if self.ok:
            return f'<ok {self.value!r} in {self.elapsed:.2f}s>'
        return f'<error {self.error}: {self.message} in {(self.elapsed or 0):.2f}s>'


class Agent:
    '''agent.py running as user (setpriv), with its own bus connection.'''

    def __init__(self, bus, user, log):
        self.user = user
        self.next_id = 1
        self.stash = {}
        self.pending = b''
        logf = open(log, 'a', encoding='utf-8')
        cmd = [PYTHON, AGENT, bus.address]
        if user is not None and user.uid != 0:
            cmd = ['setpriv', f'--reuid={user.uid}', f'--regid={user.uid}', '--clear-groups',
                   '--'] + cmd
        env = {'PATH': '/usr/bin:/bin', 'HOME': '/', 'LC_ALL': 'C.UTF-8',
               'PYTHONDONTWRITEBYTECODE': '1'}
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=logf, env=env, cwd='/', bufsize=0)
        logf.close()
        hello = self._read(0, 15)
        self.unique_name = hello['value']['name']
        if hello['value']['uid'] != (user.uid if user else 0):
            raise RuntimeError(f'agent runs as {hello["value"]["uid"]}, not {user}')

    def _read(self, rid, timeout):
        # Own line buffer over the raw fd: select() cannot see lines that a
        # buffered reader has already pulled in.
        deadline = Deadline(timeout)
        fd = self.proc.stdout.fileno()
        while rid not in self.stash:
            if b'\n' in self.pending:
                line, self.pending = self.pending.split(b'\n', 1)
                answer = json.loads(line)
                self.stash[answer['id']] = answer
                continue
            ready, _, _ = select.select([fd], [], [], deadline.left())
            if not ready:
                raise AssertionError(f'agent {self.user}: no answer to request {rid} '
                                     f'within {timeout:g} s')
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f'agent {self.user} exited')
            self.pending += chunk
        return self.stash.pop(rid)

    def send(self, op, **kw):
        rid = self.next_id
        self.next_id += 1
        self.proc.stdin.write((json.dumps(dict(kw, id=rid, op=op)) + '\n').encode())
        self.proc.stdin.flush()
        return rid

    def wait(self, rid, timeout=40):
        return CallResult(self._read(rid, timeout))

    # Calls; *_async return a request id for wait().
    def call_async(self, path, iface, method, sig=None, args=(), dest=BUS_NAME,
                   timeout_ms=30000):
        return self.send('call', dest=dest, path=path, iface=iface, method=method, sig=sig,
                         args=list(args), timeout_ms=timeout_ms)

    def call(self, path, iface, method, sig=None, args=(), dest=BUS_NAME, timeout_ms=30000):
        return self.wait(self.call_async(path, iface, method, sig, args, dest, timeout_ms),
                         timeout_ms / 1000 + 10)

    def get_async(self, path, iface, prop, **kw):
        return self.call_async(path, PROPS_IFACE, 'Get', '(ss)', (iface, prop), **kw)

    def get(self, path, iface, prop, **kw):
        r = self.call(path, PROPS_IFACE, 'Get', '(ss)', (iface, prop), **kw)
        if r.ok:
            r.value = r.value[0]
        return r

    def manager(self, method, sig=None, args=(), **kw):
        return self.call(MANAGER_PATH, MANAGER_IFACE, method, sig, args, **kw)

    def child(self, uid, method, sig=None, args=(), **kw):
        return self.call(child_path(uid), CHILD_IFACE, method, sig, args, **kw)

    def child_prop(self, uid, prop):
        return self.get(child_path(uid), CHILD_IFACE, prop)

    def subscribe(self):
        r = self.manager('Subscribe')
        if not r.ok:
            raise AssertionError(f'{self.user} cannot Subscribe: {r}')

    def signals(self, member=None):
        rid = self.send('signals')
        sigs = self._read(rid, 10)['value']
        return [s for s in sigs if member is None or s['member'] == member]

    def clear_signals(self):
        self._read(self.send('clear_signals'), 10)

    def close(self):
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc = None


# --- the daemon -------------------------------------------------------------------

def make_config(daemon=None, children=None, extra=''):
    '''children: {User: {key: value}}.'''
    lines = ['[daemon]']
    for k, v in (daemon or {}).items():
        lines.append(f'{k} = {v}')
    for user, keys in (children or {}).items():
        lines += ['', f'[child {user.name}]']
        for k, v in keys.items():
            lines.append(f'{k} = {v}')
    return '\n'.join(lines) + '\n' + extra


class Daemon:
    '''The real parentd on the harness's bus, in its own directory.'''

    counter = 0

    def __init__(self, env, config, state_dir=None, prefix=(), extra_env=None,
                 extra_args=(), bus=None):
        Daemon.counter += 1
        self.env = env
        self.bus = bus or env.bus
        self.dir = tempfile.mkdtemp(prefix=f'daemon{Daemon.counter}-', dir=env.tmp)
        self.config_dir = os.path.join(self.dir, 'etc')
        os.makedirs(os.path.join(self.config_dir, 'parentd.conf.d'))
        os.makedirs(os.path.join(self.config_dir, 'rules.d'))
        self.config_file = os.path.join(self.config_dir, 'parentd.conf')
        self.write_config(config)
        self.state_dir = state_dir or os.path.join(self.dir, 'state')
        self.prefix = list(prefix)
        self.extra_env = extra_env or {}
        self.extra_args = list(extra_args)
        self.log = os.path.join(self.dir, 'parentd.log')
        self.proc = None
        self.status = []
        self.notify_path = os.path.join(self.dir, 'notify')
        self.notify = None
        env.logs.append(self.log)
        env.daemons.append(self)

    def write_config(self, text, path=None):
        path = path or self.config_file
        with open(path + '.tmp', 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(path + '.tmp', path)

    def command(self):
        wrapper = shlex.split(os.environ.get('PARENTD_WRAPPER', ''))
        return self.prefix + wrapper + [
            PARENTD, '--config', self.config_file, '--config-dir', self.config_dir,
            '--rules-dir', os.path.join(TOP_SRCDIR, 'policy', 'rules.d'),
            '--state-dir', self.state_dir, '--verbose'] + self.extra_args

    def start(self, wait_ready=True, timeout=15.0):
        if self.notify is not None:
            self.notify.close()
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
               'DBUS_SYSTEM_BUS_ADDRESS': self.bus.address,
               'NOTIFY_SOCKET': self.notify_path,
               'G_DEBUG': 'fatal-criticals',
               'TZ': 'UTC', 'LC_ALL': 'C.UTF-8', 'HOME': '/root'}
        for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'G_SLICE', 'G_MESSAGES_DEBUG'):
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(self.extra_env)
        with open(self.log, 'a', encoding='utf-8') as logf:
            logf.write(f'--- start: {shlex.join(self.command())}\n')
            logf.flush()
            self.proc = subprocess.Popen(self.command(), env=env, stdout=logf,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def read_notify(self, timeout):
        '''Notify messages that arrive within timeout seconds.'''
        messages = []
        ready, _, _ = select.select([self.notify], [], [], timeout)
        while ready:
            data = self.notify.recv(4096).decode('utf-8', 'replace')
            messages.append(data)
            for line in data.split('\n'):
                if line.startswith('STATUS='):
                    self.status.append(line[7:])
            ready, _, _ = select.select([self.notify], [], [], 0)
        return messages

    def wait_ready(self, timeout=15.0):
        deadline = Deadline(timeout)
        while not deadline.passed():
            for m in self.read_notify(min(0.2, deadline.left())):
                if 'READY=1' in m.split('\n'):
                    return
            if self.proc.poll() is not None:
                raise AssertionError(f'parentd exited with {self.proc.returncode} before READY=1')
        raise AssertionError(f'parentd sent no READY=1 within {timeout:g} s')

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, timeout=10.0):
        '''SIGTERM; returns the exit status (negative: killed by a signal).'''
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = 'hung on SIGTERM'
                self.proc = None
                return rc
        rc = self.proc.returncode
        self.proc = None
        self.wait_gone()
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.wait_gone()

    def wait_gone(self):
        '''The bus has noticed: a new instance can own the name.'''
        if self.bus.proc is not None:
            self.bus.wait_name(BUS_NAME, False, 5)

    def wait_exit(self, timeout=10.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def log_text(self):
        try:
            with open(self.log, encoding='utf-8', errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.wait_gone()
        if self.notify is not None:
            self.notify.close()
            self.notify = None


# --- the environment of one test file --------------------------------------------

class Env:
    '''One bus, logind and polkitd mocks, the test users and their agents,
    for a whole test file.'''

    def __init__(self, tag, base_uid):
        self.tag = tag
        self.tmp = tempfile.mkdtemp(prefix=f'parentd-it-{tag}-')
        os.chmod(self.tmp, 0o755)
        self.users = Users(tag, base_uid)
        self.logs = []
        self.daemons = []
        self.agents = {}
        self.fresh_agents = []
        self.bus = None
        self.logind = None
        self.polkit = None
        self.stop_hooks = []

    def at_stop(self, fn):
        '''fn() runs when the file's environment stops (first in, last run).'''
        self.stop_hooks.append(fn)

    def start(self):
        self.users.create()
        self.bus = Bus(os.path.join(self.tmp, 'bus'))
        self.bus.start()
        self.logind = Logind(self.bus, os.path.join(self.tmp, 'logind.log'))
        self.polkit = Polkit(self.bus, os.path.join(self.tmp, 'polkitd.log'))
        self.logind.start()
        self.polkit.start()

    def reset(self):
        '''Before each test: fresh mocks (restarted if a test stopped them),
        the parent allowed both actions, no agent signals kept.'''
        for mock in (self.logind, self.polkit):
            if mock.proc is None or mock.proc.poll() is not None:
                mock.proc = None
                mock.start()
        self.logind.reset()
        self.polkit.reset()
        self.polkit.allow(self.users.parent, [MANAGE, VIEW])
        for agent in list(self.agents.values()):
            if agent.proc is None or agent.proc.poll() is not None:
                del self.agents[agent.user.name]
            else:
                agent.clear_signals()
        self.logs = [os.path.join(self.tmp, 'logind.log'), os.path.join(self.tmp, 'polkitd.log')]

    def agent(self, user, fresh=False):
        '''The agent of user (kept for the whole file unless fresh).'''
        if fresh:
            agent = Agent(self.bus, user, os.path.join(self.tmp, f'agent-{user.name}.log'))
            self.fresh_agents.append(agent)
            return agent
        if user.name not in self.agents:
            self.agents[user.name] = Agent(self.bus, user,
                                           os.path.join(self.tmp, f'agent-{user.name}.log'))
        return self.agents[user.name]

    def after_test(self):
        for d in self.daemons:
            d.cleanup()
        self.daemons = []
        for agent in self.fresh_agents:
            agent.close()
        self.fresh_agents = []

    # Reads as root, from the harness's own connection.
    def child_prop(self, user, prop, bus=None):
        uid = user.uid if isinstance(user, User) else user
        return (bus or self.bus).call(BUS_NAME, child_path(uid), PROPS_IFACE, 'Get',
                                      GLib.Variant('(ss)', (CHILD_IFACE, prop)))[0]

    def child_props(self, user, bus=None):
        return (bus or self.bus).call(BUS_NAME, child_path(user.uid), PROPS_IFACE, 'GetAll',
                                      GLib.Variant('(s)', (CHILD_IFACE,)))[0]

    def manager_prop(self, prop, bus=None):
        return (bus or self.bus).call(BUS_NAME, MANAGER_PATH, PROPS_IFACE, 'Get',
                                      GLib.Variant('(ss)', (MANAGER_IFACE, prop)))[0]

    def stop(self):
        for d in self.daemons:
            d.cleanup()
        while self.stop_hooks:
            try:
                self.stop_hooks.pop()()
            except Exception:  # noqa: BLE001 - stopping everything else matters more
                traceback.print_exc()
        for agent in self.agents.values():
            agent.close()
        self.agents = {}
        for mock in (self.logind, self.polkit):
            if mock is not None and mock.proc is not None:
                mock.proc.kill()
                mock.proc.wait()
                mock.proc = None
        if self.bus is not None:
            self.bus.stop()
        self.users.remove()

    def remove_tmp(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class TestCase(unittest.TestCase):
    '''Each test gets fresh mocks; daemons it starts are killed after it.'''

    env = None
    maxDiff = None

    def setUp(self):
        self.env.reset()
        self.users = self.env.users
        self.kid1 = self.users.kid1
        self.kid2 = self.users.kid2
        self.parent = self.users.parent
        self.stranger = self.users.stranger
        self.logind = self.env.logind
        self.polkit = self.env.polkit

    def tearDown(self):
        self.env.after_test()

    def daemon(self, config, start=True, **kw):
        d = Daemon(self.env, config, **kw)
        if start:
            d.start()
        return d

    def agent(self, user, fresh=False):
        return self.env.agent(user, fresh)

    def prop(self, user, name):
        return self.env.child_prop(user, name)

    def wait_prop(self, user, prop, expected, timeout=5.0):
        '''Waits until the child property equals expected (or expected(value)
        is true); returns the value.'''
        box = {}

        def check():
            box['v'] = self.prop(user, prop)
            return expected(box['v']) if callable(expected) else box['v'] == expected

        want = 'to match' if callable(expected) else f'== {expected!r}'
        assert_eventually(check, timeout,
                          lambda: f'{user.name}.{prop} {want} (last {box.get("v")!r})')
        return box['v']

    def assert_counts(self, user, seconds=2):
        '''Counting is true and UsedToday grows by seconds.'''
        self.wait_prop(user, 'Counting', True)
        before = self.prop(user, 'UsedToday')
        self.wait_prop(user, 'UsedToday', lambda v: v >= before + seconds, timeout=seconds + 3)

    def assert_not_counting(self, user, duration=2.5):
        '''Counting becomes false, stays false, and UsedToday stands still.'''
        self.wait_prop(user, 'Counting', False)
        before = self.prop(user, 'UsedToday')
        assert_stays(lambda: self.prop(user, 'Counting') is False, duration,
                     f'{user.name} not counting')
        after = self.prop(user, 'UsedToday')
        self.assertLessEqual(after - before, 1,
                             f'{user.name} UsedToday grew from {before} to {after} '
                             f'while not counting')

    def stop_ok(self, daemon):
        rc = daemon.stop()
        self.assertEqual(rc, 0, f'parentd exit status on SIGTERM: {rc}')

    def diagnostics(self):
        '''The daemon's log, and the end of the mocks' logs.'''
        out = []
        for path in self.env.logs:
            keep = 80 if os.path.basename(path) == 'parentd.log' else 15
            try:
                with open(path, encoding='utf-8', errors='replace') as f:
                    lines = f.read().splitlines()
            except FileNotFoundError:
                continue
            if lines:
                out.append(f'--- {os.path.basename(os.path.dirname(path))}/'
                           f'{os.path.basename(path)} (last {min(len(lines), keep)} lines)')
                out += [line[:300] for line in lines[-keep:]]
        return out


# --- TAP ---------------------------------------------------------------------------

class TapResult(unittest.TestResult):
    def __init__(self, prefix):
        super().__init__()
        self.prefix = prefix
        self.n = 0
        self.failed = 0
        self.started = {}

    def name(self, test, subtest=None):
        text = f'{self.prefix}: {test._testMethodName}'
        if subtest is not None:
            desc = subtest._subDescription()
            text += f' {desc}'
        return text.replace('#', '<hash>')

    def emit(self, ok, name, directive='', diag=None):
        self.n += 1
        line = f'{"ok" if ok else "not ok"} {self.n} - {name}'
        if directive:
            line += f' # {directive}'
        print(line, flush=True)
        for d in diag or []:
            for sub in str(d).splitlines():
                print(f'# {sub}', flush=True)

    def startTest(self, test):
        super().startTest(test)
        self.started[test.id()] = time.monotonic()

    def elapsed(self, test):
        return time.monotonic() - self.started.get(test.id(), time.monotonic())

    def diag(self, test, err):
        lines = traceback.format_exception(*err)
        extra = test.diagnostics() if hasattr(test, 'diagnostics') else []
        return [''.join(lines).rstrip()] + extra

    def addSuccess(self, test):
        super().addSuccess(test)
        self.emit(True, self.name(test) + f' ({self.elapsed(test):.1f}s)')

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed += 1
        self.emit(False, self.name(test), diag=self.diag(test, err))

    def addError(self, test, err):
        super().addError(test, err)
        self.failed += 1
        self.emit(False, self.name(test), diag=self.diag(test, err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.emit(True, self.name(test), f'SKIP {reason}')

    def addSubTest(self, test, subtest, outcome):
        super().addSubTest(test, subtest, outcome)
        if outcome is None:
            self.emit(True, self.name(test, subtest))
        else:
            self.failed += 1
            self.emit(False, self.name(test, subtest), diag=self.diag(test, outcome))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.emit(False, self.name(test), 'TODO expected failure')

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.emit(True, self.name(test), 'TODO unexpected success')


class _Timeout(Exception):
    pass


def _alarm(_signum, _frame):
    raise _Timeout('test took longer than its time limit (PARENTD_IT_TEST_TIMEOUT)')


def _iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _iter_tests(t)
        else:
            yield t


def main(tag, base_uid):
    '''Runs the TestCase classes of __main__ as TAP; exit status 1 on any failure.'''
    prefix = os.path.basename(sys.argv[0])
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(sys.modules['__main__'])
    only = sys.argv[1:]
    tests = [t for t in _iter_tests(suite)
             if not only or any(o in t.id() for o in only)]
    result = TapResult(prefix)

    if os.geteuid() != 0:
        for t in tests:
            result.addSkip(t, 'needs root (test users, setpriv, the proc connector)')
        print(f'1..{result.n}')
        return 0
    missing = [p for p in ('dbus-daemon', 'setpriv') if shutil.which(p) is None]
    if not os.access(PARENTD, os.X_OK):
        missing.append(PARENTD)
    if importlib.util.find_spec('dbusmock') is None:
        missing.append('python3-dbusmock')
    if missing:
        for t in tests:
            result.addSkip(t, 'missing: ' + ', '.join(missing))
        print(f'1..{result.n}')
        return 0

    env = Env(tag, base_uid)
    atexit.register(env.stop)

    def on_term(signum, _frame):
        env.stop()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGALRM, _alarm)
    per_test = int(os.environ.get('PARENTD_IT_TEST_TIMEOUT', '150'))
    start = time.monotonic()
    try:
        env.start()
        print(f'# test users: {", ".join(map(repr, env.users.all))}; files in {env.tmp}',
              flush=True)
        TestCase.env = env
        for t in tests:
            signal.alarm(per_test)
            try:
                t.run(result)
            finally:
                signal.alarm(0)
    except Exception:  # noqa: BLE001 - the environment itself failed
        result.failed += 1
        result.emit(False, f'{prefix}: environment', diag=[traceback.format_exc()])
    finally:
        env.stop()
    print(f'1..{result.n}')
    print(f'# {prefix}: {result.n} results, {result.failed} failed, '
          f'{time.monotonic() - start:.1f}s', flush=True)
    if result.failed == 0 and not os.environ.get('PARENTD_IT_KEEP'):
        env.remove_tmp()
    else:
        print(f'# files kept in {env.tmp}', flush=True)
    return 1 if result.failed else 0
