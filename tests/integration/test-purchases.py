#!/usr/bin/python3
# Purchase attempts with the real daemon, the shipped purchase rules
# (policy/rules.d/purchase-*.conf) and real processes of the test users:
# the race between a handler and the freeze (500 trials under ask and under
# block), approval resumes, denial and purchase_hold expiry kill, URLs no
# rule names run untouched, realistic argument vectors (steam, a browser
# with a checkout URL among its flags), no query, fragment or credentials in
# any record, one child cannot see or answer another's purchase, the
# PurchaseAttempt signal goes only where it may, holds across a restart,
# the cap of 5 holds, an expired request answered late, a reused pid, and
# floods of 1,000 attempts.
#
# The handler is purchase-helper.c built with -DPDIT_HANDLER (compiled here
# with cc): it writes a file 10 ms after it starts, so a freeze that comes
# too late shows as a file. Copies of it named steam and firefox play those
# programs.

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written next to the sources
import harness  # noqa: E402
from harness import signame  # noqa: E402
from harness import VIEW, assert_eventually, assert_stays, child_path  # noqa: E402

HELPER_SRC = os.path.join(harness.HERE, 'purchase-helper.c')
PARENTCTL = os.path.join(harness.TOP_BUILDDIR, 'client', 'parentctl')
TRIALS = int(os.environ.get('PARENTD_IT_PURCHASE_TRIALS', '500'))
FLOOD = 1000
MAX_HOLDS = 5            # pending purchase holds per child (issue 5)
OUTCOME_WAIT = 5.0       # seconds a trial may take to be frozen or killed
CALL_DEADLINE = 2.0      # seconds a D-Bus call may take while a flood goes on
PACED_GAP_US = 5000      # between the attempts of a paced flood
STEAM_RULE = 'steam-purchase-link'
# An AddressSanitizer build of parentd is several times slower on the exec
# path and its memory is ASan's: timings and RSS say nothing there. The
# tests still run in that build, for its memory checks; the gcc build
# checks the timings and RSS.


def timing_matters(test):
    if harness.SANITIZED:
        test.skipTest('timing and RSS under AddressSanitizer are not representative; '
                      'the gcc build checks them')


def proc_state(pid):
    '''The state letter in /proc/PID/stat (T: stopped), None when gone.'''
    try:
        with open(f'/proc/{pid}/stat', encoding='ascii', errors='replace') as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(')') + 2]


def rss_kib(pid):
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError(f'no VmRSS for pid {pid}')


class Built:
    '''The handler and the flood launcher, compiled once per file.'''

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, 'bin')
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.handler = os.path.join(self.dir, 'purchase-handler')
        self.launcher = os.path.join(self.dir, 'purchase-launcher')
        self.error = (harness.compile_helper(HELPER_SRC, self.handler, ['-DPDIT_HANDLER'])
                      or harness.compile_helper(HELPER_SRC, self.launcher))
        if self.error:
            return
        # "steam" and "firefox": the kernel names a process after its file.
        self.named = {}
        for name in ('steam', 'firefox'):
            path = os.path.join(self.dir, name)
            shutil.copy(self.handler, path)
            os.chmod(path, 0o755)
            self.named[name] = path


_built = None


def built(env):
    global _built
    if _built is None:
        _built = Built(env.tmp)
    return _built


class Attempt(harness.Watched):
    '''A handler started as a child (harness.Watched).'''

    def __init__(self, popen, out, label):
        super().__init__(popen, label)
        self.out = out

    def state(self):
        return None if self.dead() else proc_state(self.pid)

    def stopped(self):
        return self.state() == 'T'

    def acted(self):
        return os.path.exists(self.out)

    def outcome(self, timeout=OUTCOME_WAIT, interval=0.002):
        '''frozen (stopped before it acted), killed (SIGKILL before it
        acted), appeared (it acted), or what else happened, within
        timeout.'''
        deadline = harness.Deadline(timeout)
        while True:
            if self.acted():
                return 'appeared'
            if self.dead():
                if self.acted():
                    return 'appeared'
                if self.returncode == -signal.SIGKILL:
                    return 'killed'
                return signame(self.returncode)
            if proc_state(self.pid) == 'T':
                # Stopped: it cannot act until it is continued.
                return 'appeared' if self.acted() else 'frozen'
            if deadline.passed():
                return 'running'
            self.dead(min(interval, deadline.left()))

    def kill(self):
        # Not the group of a process already reaped: its pid may be reused.
        if not self.dead():
            self.kill_group()
        elif self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None

    def __repr__(self):
        return (f'<{self.label} pid {self.pid}: '
                f'{signame(self.returncode) if self.dead() else proc_state(self.pid)}, '
                f'{"acted" if self.acted() else "did not act"}>')


class Flood:
    '''The launcher's report: "spawned PID", "all-spawned", "ended PID
    signal N" or "ended PID exit N", "all-ended".'''

    def __init__(self, popen):
        self.popen = popen
        self.buf = b''
        self.spawned = []
        self.ended = {}
        self.all_spawned = self.all_ended = self.eof = False

    def read(self, timeout):
        if not self.eof:
            fd = self.popen.stdout.fileno()
            ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
            if ready:
                chunk = os.read(fd, 65536)
                self.eof = not chunk
                self.buf += chunk
        while b'\n' in self.buf:
            line, self.buf = self.buf.split(b'\n', 1)
            words = line.decode().split()
            if words[0] == 'spawned':
                self.spawned.append(int(words[1]))
            elif words[0] == 'ended':
                self.ended[int(words[1])] = ' '.join(words[2:])
            self.all_spawned |= words[0] == 'all-spawned'
            self.all_ended |= words[0] == 'all-ended'

    def kill(self):
        if self.popen.poll() is None:
            # The attempts are in the launcher's process group, frozen
            # ones too, until the launcher has reaped them all.
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.popen.wait(10)
        self.popen.stdout.close()


def answer_now(agent, rid):
    '''The agent's answer to request rid if it is there, else None.'''
    try:
        return agent.wait(rid, 0)
    except AssertionError:
        return None


class PurchasesTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.attempts = []
        self.floods = []
        self.tools = built(self.env)
        if self.tools.error:
            self.skipTest(self.tools.error)
        self.dir = tempfile.mkdtemp(prefix=f'{self._testMethodName}-', dir=self.env.tmp)
        os.chmod(self.dir, 0o1777)  # the test users write their files here
        self.proc_log = os.path.join(self.dir, 'processes.log')
        self.env.logs.append(self.proc_log)
        self.n = 0

    def tearDown(self):
        try:
            for a in self.attempts:
                a.kill()
            for f in self.floods:
                f.kill()
        finally:
            super().tearDown()

    def note(self, text):
        print(f'# {self._testMethodName}: {text}', flush=True)

    def config(self, kid1='ask', kid2='ask', **daemon):
        return harness.make_config(daemon, {self.kid1: {'purchases': kid1},
                                            self.kid2: {'purchases': kid2}})

    # --- processes -----------------------------------------------------------------

    def attempt(self, argv, user=None, program=None, label=None):
        '''argv[0] argv[1:] as user (kid1), running the handler (or
        program), straight from this process: the URL appears first at that
        exec.'''
        user = user or self.kid1
        self.n += 1
        out = os.path.join(self.dir, f'acted-{self.n}')
        label = label or f'{user.name}: {" ".join(argv)}'
        with open(self.proc_log, 'a', encoding='utf-8') as logf:
            logf.write(f'--- {label}\n')
            logf.flush()
            popen = subprocess.Popen(argv, executable=program or self.tools.handler,
                                     user=user.uid, group=user.uid, extra_groups=[],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, cwd='/',
                                     start_new_session=True,
                                     env={'PATH': '/usr/bin:/bin', 'LC_ALL': 'C.UTF-8',
                                          'PDIT_OUT': out})
        a = Attempt(popen, out, label)
        self.attempts.append(a)
        return a

    def expect(self, a, want):
        got = a.outcome()
        self.assertEqual(got, want, f'{a.label}: {got}, expected {want} ({a!r})')

    def assert_killed(self, a, timeout=5.0):
        self.assertTrue(a.dead(timeout), f'{a.label} still there {timeout:g} s later: {a!r}')
        self.assertEqual(a.returncode, -signal.SIGKILL,
                         f'{a.label} ended by {signame(a.returncode)}, expected SIGKILL')
        self.assertFalse(a.acted(), f'{a.label} acted (its file exists) before it was killed')

    def assert_resumed(self, a, timeout=5.0):
        assert_eventually(a.acted, timeout, f'{a.label} acts after approval ({a!r})')
        self.assertTrue(a.dead(timeout), f'{a.label} does not end after it acted: {a!r}')
        self.assertEqual(a.returncode, 0, f'{a.label}: {signame(a.returncode)}')

    def assert_untouched(self, a):
        assert_eventually(a.acted, 5, f'{a.label} acts ({a!r})')
        self.assertTrue(a.dead(5), f'{a.label} does not end after it acted: {a!r}')
        self.assertEqual(a.returncode, 0, f'{a.label}: {signame(a.returncode)}')

    # --- the daemon's view -------------------------------------------------------------

    def requests(self, agent=None):
        '''ListRequests: [(id, uid, kind, created, state, details)].'''
        r = (agent or self.agent(self.parent)).manager('ListRequests')
        self.assertTrue(r.ok, r)
        return [tuple(q) for q in r.value[0]]

    def purchase_requests(self, user=None, state=None, agent=None):
        user = user or self.kid1
        return [q for q in self.requests(agent)
                if q[2] == 'purchase' and q[1] == user.uid and (state is None or q[4] == state)]

    def request_of(self, a, agent=None, timeout=3.0):
        '''The purchase request that holds a's process.'''
        box = {}

        def find():
            box['all'] = self.requests(agent)
            # The newest first: a flood may have reused the pid of an
            # answered one.
            for q in sorted(box['all'], key=lambda q: q[0], reverse=True):
                if q[2] == 'purchase' and a.pid in (q[5].get('pids') or []):
                    return q
            return None

        return assert_eventually(find, timeout,
                                 lambda: f'a purchase request holding pid {a.pid} ({a.label}); '
                                 f'requests: {box.get("all")}')

    def deny(self, request_id):
        r = self.agent(self.parent).manager('DenyRequest', '(t)', [request_id])
        self.assertTrue(r.ok, f'DenyRequest {request_id}: {r}')

    def approve(self, request_id):
        r = self.agent(self.parent).manager('ApproveRequest', '(tu)', [request_id, 0])
        self.assertTrue(r.ok, f'ApproveRequest {request_id}: {r}')

    def purchases(self, user=None, agent=None, days=30):
        '''GetPurchases: [(time, rule, app, target, outcome)], newest first.'''
        user = user or self.kid1
        r = (agent or self.agent(self.parent)).child(user.uid, 'GetPurchases', '(u)', [days])
        self.assertTrue(r.ok, r)
        return [tuple(p) for p in r.value[0]]

    def record_for(self, target, user=None):
        return [p for p in self.purchases(user) if p[3] == target]

    def wait_outcome(self, target, outcome, user=None, timeout=3.0):
        return assert_eventually(
            lambda: [p for p in self.record_for(target, user) if p[4] == outcome], timeout,
            lambda: f'a record of {target} with outcome {outcome} '
            f'(records: {self.record_for(target, user)})')

    def parentctl(self, user, *args):
        cmd = [PARENTCTL, '--no-ask-password'] + list(args)
        if user is not None:
            cmd = ['setpriv', f'--reuid={user.uid}', f'--regid={user.uid}', '--clear-groups',
                   '--'] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False,
                              cwd='/', env={'PATH': '/usr/bin:/bin', 'LC_ALL': 'C.UTF-8',
                                            'DBUS_SYSTEM_BUS_ADDRESS': self.env.bus.address})

    # --- the race ----------------------------------------------------------------------

    def test_race_ask(self):
        '''Under ask, 500 handlers (each with its own steam://purchase/N)
        are frozen before they act; each hold is denied and the process
        killed. One more, approved with parentctl approve, acts.'''
        d = self.daemon(self.config())
        counts = {}
        bad = []
        started = time.monotonic()
        for n in range(TRIALS):
            target = f'steam://purchase/{100000 + n}'
            a = self.attempt(['purchase-handler', target], label=f'trial {n}')
            got = a.outcome()
            counts[got] = counts.get(got, 0) + 1
            if got == 'frozen':
                # Denied at once, so that holds never pile up to the cap.
                held = self.request_of(a)
                self.assertEqual(held[5].get('target'), target, held)
                self.deny(held[0])
                self.assert_killed(a)
            else:
                bad.append((n, got, repr(a)))
            # A hold whose process is gone expires and does not count.
            a.kill()
            self.attempts.remove(a)
        took = time.monotonic() - started
        self.note(f'{TRIALS} trials under ask in {took:.0f} s: frozen {counts.get("frozen", 0)}, '
                  f'killed {counts.get("killed", 0)}, appeared {counts.get("appeared", 0)}'
                  + ''.join(f', {k} {v}' for k, v in counts.items()
                            if k not in ('frozen', 'killed', 'appeared')))
        with self.subTest('no handler acted'):
            timing_matters(self)
            self.assertEqual(counts.get('appeared', 0), 0, bad[:10])
        with self.subTest('every handler was frozen (held), none killed or left running'):
            timing_matters(self)
            self.assertEqual(counts.get('frozen', 0), TRIALS, bad[:10])
        with self.subTest('no hold is left pending'):
            self.assertEqual(self.purchase_requests(state='pending'), [])
        with self.subTest('approved with parentctl approve, the handler acts'):
            target = 'steam://purchase/440'
            a = self.attempt(['purchase-handler', target], label='approved trial')
            self.expect(a, 'frozen')
            held = self.request_of(a)
            assert_stays(lambda: not a.acted() and a.stopped(), 0.5,
                         'the held handler stays frozen')
            r = self.parentctl(self.parent, 'approve', str(held[0]))
            self.assertEqual(r.returncode, 0, f'parentctl approve: {r.stdout} {r.stderr}')
            self.assert_resumed(a)
            self.wait_outcome(target, 'approved')
        self.stop_ok(d)

    def test_race_block(self):
        '''Under block, 500 handlers are killed before they act.'''
        d = self.daemon(self.config(kid1='block'))
        counts = {}
        bad = []
        started = time.monotonic()
        for n in range(TRIALS):
            a = self.attempt(['purchase-handler', f'steam://purchase/{200000 + n}'],
                             label=f'trial {n}')
            got = a.outcome()
            if got == 'frozen' and a.dead(5):
                # The sentry thread stops it first; the main loop's
                # SIGKILL follows.
                got = 'appeared' if a.acted() else signame(a.returncode)
                got = 'killed' if got == 'SIGKILL' else got
            elif got == 'frozen':
                got = 'stopped (not killed)'
            counts[got] = counts.get(got, 0) + 1
            if got != 'killed':
                bad.append((n, got, repr(a)))
            a.kill()
            self.attempts.remove(a)
        took = time.monotonic() - started
        self.note(f'{TRIALS} trials under block in {took:.0f} s: frozen 0, '
                  f'killed {counts.get("killed", 0)}, appeared {counts.get("appeared", 0)}'
                  + ''.join(f', {k} {v}' for k, v in counts.items()
                            if k not in ('killed', 'appeared')))
        with self.subTest('no handler acted'):
            self.assertEqual(counts.get('appeared', 0), 0, bad[:10])
        with self.subTest('every handler was killed'):
            self.assertEqual(counts.get('killed', 0), TRIALS, bad[:10])
        with self.subTest('each attempt is in the log as blocked, no request filed'):
            log = self.purchases()
            self.assertEqual(len([p for p in log if p[4] == 'blocked']), TRIALS,
                             f'{len(log)} records, outcomes '
                             f'{sorted(set(p[4] for p in log))}')
            self.assertEqual(self.purchase_requests(), [])
        self.stop_ok(d)

    # --- answers -------------------------------------------------------------------------

    def test_deny_kills(self):
        d = self.daemon(self.config())
        target = 'steam://purchase/620'
        a = self.attempt(['purchase-handler', target])
        self.expect(a, 'frozen')
        held = self.request_of(a)
        with self.subTest('the request: pending, with rule, app, target and the pid'):
            _id, uid, kind, created, state, details = held
            self.assertEqual((uid, kind, state), (self.kid1.uid, 'purchase', 'pending'))
            self.assertAlmostEqual(created, time.time(), delta=5)
            self.assertEqual(details.get('rule'), STEAM_RULE, details)
            self.assertEqual(details.get('target'), target, details)
            self.assertIn('app', details)
            self.assertEqual(details.get('pids'), [a.pid], details)
        with self.subTest('the log says held'):
            self.wait_outcome(target, 'held')
        with self.subTest('it stays frozen while nobody answers'):
            assert_stays(lambda: a.stopped() and not a.acted(), 1.0, 'frozen')
        self.deny(held[0])
        with self.subTest('DenyRequest kills it'):
            self.assert_killed(a)
        with self.subTest('the request is denied, the log says denied'):
            self.assertEqual([q[4] for q in self.requests() if q[0] == held[0]], ['denied'])
            self.wait_outcome(target, 'denied')
            self.assertEqual([p for p in self.record_for(target) if p[4] == 'held'], [])
        with self.subTest('a second DenyRequest or ApproveRequest: NoSuchRequest'):
            for method, sig, args in (('DenyRequest', '(t)', [held[0]]),
                                      ('ApproveRequest', '(tu)', [held[0], 0])):
                r = self.agent(self.parent).manager(method, sig, args)
                self.assertEqual(r.error, harness.NO_SUCH_REQUEST, (method, r))
        self.stop_ok(d)

    def test_expiry_kills_and_late_answer(self):
        '''purchase_hold = 3s: the hold expires and the process is killed;
        a parent who answers then gets NoSuchRequest saying it expired.'''
        d = self.daemon(self.config(purchase_hold='3s'))
        parent = self.agent(self.parent)
        kid1 = self.agent(self.kid1)
        kid1.subscribe()
        target = 'steam://purchase/730'
        a = self.attempt(['purchase-handler', target])
        self.expect(a, 'frozen')
        frozen_at = time.monotonic()
        held = self.request_of(a)
        with self.subTest('killed when purchase_hold (3 s) has passed'):
            self.assertTrue(a.dead(3 + 5), f'still there 8 s after the hold began: {a!r}')
            after = time.monotonic() - frozen_at
            self.note(f'killed {after:.1f} s after the freeze (purchase_hold 3 s)')
            self.assert_killed(a, 0)
            self.assertGreaterEqual(after, 3 - 1.1)
        with self.subTest('the request is expired, the log says expired'):
            assert_eventually(lambda: [q[4] for q in self.requests() if q[0] == held[0]]
                              == ['expired'], 3, 'request expired')
            self.wait_outcome(target, 'expired')
        with self.subTest('the child hears: PurchaseAttempt expired'):
            assert_eventually(lambda: [s for s in kid1.signals('PurchaseAttempt')
                                       if s['args'][3] == 'expired'], 3,
                              lambda: f'PurchaseAttempt expired ({kid1.signals()})')
        for method, sig, args in (('ApproveRequest', '(tu)', [held[0], 0]),
                                  ('DenyRequest', '(t)', [held[0]])):
            with self.subTest(f'{method} on the expired request: NoSuchRequest, "expired"'):
                r = parent.manager(method, sig, args)
                self.assertEqual(r.error, harness.NO_SUCH_REQUEST, r)
                self.assertIn('expired', r.message, r)
        with self.subTest('parentctl approve says so, exit 1'):
            r = self.parentctl(self.parent, 'approve', str(held[0]))
            self.assertEqual(r.returncode, 1, (r.stdout, r.stderr))
            self.assertIn('expired', r.stderr, r.stderr)
        self.stop_ok(d)

    # --- what matches --------------------------------------------------------------------

    def test_non_matching_untouched(self):
        '''URLs and arguments no shipped rule names: the handler runs and
        acts, nothing is recorded, no request is filed.'''
        d = self.daemon(self.config())
        cases = [
            ['purchase-handler', 'https://example.org/shop/checkout'],
            ['purchase-handler', 'https://store.steampowered.com/app/440'],
            ['steam', 'steam://run/440'],
            ['steam', '-silent', 'steam://open/games'],
            ['firefox', '--new-window', 'https://www.paypal.com/signin?x=checkout'],
            ['firefox', 'https://example.com/?next=steam://purchase/440'],
            ['purchase-handler', 'purchase', '440'],
        ]
        for argv in cases:
            program = self.tools.named.get(argv[0])
            with self.subTest(' '.join(argv)):
                self.assert_untouched(self.attempt(argv, program=program))
        with self.subTest('nothing recorded, no request'):
            self.assertEqual(self.purchases(), [])
            self.assertEqual(self.purchase_requests(), [])
        self.stop_ok(d)

    def test_log_and_allow(self):
        '''purchases = log records and lets run; allow neither holds nor
        records.'''
        d = self.daemon(self.config(kid1='log', kid2='allow'))
        target = 'steam://purchase/570'
        with self.subTest('log: runs and is recorded as logged'):
            self.assert_untouched(self.attempt(['purchase-handler', target]))
            self.wait_outcome(target, 'logged')
            self.assertEqual(self.purchase_requests(), [])
        with self.subTest('allow: runs, nothing recorded'):
            self.assert_untouched(self.attempt(['purchase-handler', target], user=self.kid2))
            self.assertEqual(self.purchases(self.kid2), [])
            self.assertEqual(self.purchase_requests(self.kid2), [])
        self.stop_ok(d)

    def test_realistic_argv(self):
        '''steam steam://purchase/440, steam -silent
        steam://purchase/subscription/123, and firefox with a Stripe
        checkout URL among its flags: each held by its shipped rule.'''
        d = self.daemon(self.config())
        cases = [
            (['steam', 'steam://purchase/440'], STEAM_RULE, 'steam', 'steam://purchase/440'),
            (['steam', '-silent', 'steam://purchase/subscription/123'], STEAM_RULE, 'steam',
             'steam://purchase/subscription/123'),
            (['firefox', '--new-window', '--private-window',
              'https://checkout.stripe.com/c/pay/cs_test_abc?x=1#frag'], 'stripe', 'firefox',
             'https://checkout.stripe.com/c/pay/cs_test_abc'),
            (['xdg-open', 'https://store.steampowered.com/checkout/?purchasetype=self'],
             'steam-checkout', None, 'https://store.steampowered.com/checkout/'),
        ]
        for argv, rule, app, target in cases:
            program = self.tools.named.get(argv[0])
            with self.subTest(' '.join(argv)):
                a = self.attempt(argv, program=program)
                self.expect(a, 'frozen')
                held = self.request_of(a)
                details = held[5]
                self.assertEqual((details.get('rule'), details.get('target')), (rule, target),
                                 details)
                if app is not None:
                    self.assertEqual(details.get('app'), app, details)
                self.deny(held[0])
                self.assert_killed(a)
                self.wait_outcome(target, 'denied')
        self.stop_ok(d)

    def test_target_redacted(self):
        '''Queries, fragments and user:password@ never reach the log:
        GetPurchases, parentctl purchases --json, ListRequests, the
        state file, the daemon's own log output.'''
        d = self.daemon(self.config(kid1='ask', kid2='block'))
        secrets = ['SECRETQUERY', '4242424242424242', 'SECRETFRAG', 'hunter2', 'alice',
                   'SECRETTOKEN']
        cases = [
            (self.kid1, ['firefox', '--new-window',
                         'https://checkout.stripe.com/c/pay/cs_test_abc?x=SECRETQUERY'
                         '&card=4242424242424242#SECRETFRAG'],
             'https://checkout.stripe.com/c/pay/cs_test_abc'),
            (self.kid1, ['firefox', 'https://alice:hunter2@creator.itch.io/game/purchase'
                                    '?popup=1&t=SECRETTOKEN#SECRETFRAG'],
             'https://creator.itch.io/game/purchase'),
            (self.kid1, ['steam', 'steam://purchase/440?token=SECRETTOKEN#SECRETFRAG'],
             'steam://purchase/440'),
            (self.kid2, ['firefox', 'https://www.paypal.com/checkoutnow?token=SECRETTOKEN'
                                    '&card=4242424242424242'],
             'https://www.paypal.com/checkoutnow'),
        ]
        held = []
        for user, argv, target in cases:
            a = self.attempt(argv, user=user, program=self.tools.named[argv[0]])
            self.expect(a, 'frozen' if user is self.kid1 else 'killed')
            if user is self.kid1:
                held.append((a, self.request_of(a)))
            self.wait_outcome(target, 'held' if user is self.kid1 else 'blocked', user)
        expected = sorted(t for u, _a, t in cases)
        with self.subTest('GetPurchases: scheme, host and path only'):
            targets = sorted(p[3] for u in (self.kid1, self.kid2) for p in self.purchases(u))
            self.assertEqual(targets, expected)
        with self.subTest('parentctl purchases --json: the same'):
            r = self.parentctl(self.parent, 'purchases', '--json')
            self.assertEqual(r.returncode, 0, r.stderr)
            doc = json.loads(r.stdout)
            self.assertEqual(sorted(p['target'] for p in doc['purchases']), expected, doc)
            for p in doc['purchases']:
                self.assertFalse(set('?#@') & set(p['target']), p)
        with self.subTest('ListRequests details: no query'):
            for _a, q in held:
                self.assertFalse(set('?#@') & set(q[5].get('target', '')), q)
        for a, q in held:
            self.deny(q[0])
            self.assert_killed(a)
        with self.subTest('state.json on disk holds none of the query, fragment or password'):
            self.stop_ok(d)
            with open(os.path.join(d.state_dir, 'state.json'), encoding='utf-8') as f:
                text = f.read()
            self.assertIn('checkout.stripe.com/c/pay/cs_test_abc', text)
            leaked = [s for s in secrets if s in text]
            self.assertEqual(leaked, [], 'found in state.json')
        with self.subTest("the daemon's own log output (stderr/journal) holds none of them"):
            log = d.log_text()
            leaked = [s for s in secrets if s in log]
            self.assertEqual(leaked, [], [line for line in log.splitlines()
                                          if any(s in line for s in secrets)][:5])

    # --- who sees what ---------------------------------------------------------------------

    def test_other_child_cannot_see_or_answer(self):
        d = self.daemon(self.config())
        kid1, kid2, stranger = (self.agent(u) for u in (self.kid1, self.kid2, self.stranger))
        a = self.attempt(['purchase-handler', 'steam://purchase/10'])
        self.expect(a, 'frozen')
        held = self.request_of(a)
        rid = held[0]
        with self.subTest('kid1 sees its own request'):
            self.assertIn(rid, [q[0] for q in self.requests(kid1)])
        with self.subTest('kid2 does not see it in ListRequests'):
            self.assertNotIn(rid, [q[0] for q in self.requests(kid2)])
        with self.subTest('a stranger does not see it'):
            r = stranger.manager('ListRequests')
            self.assertTrue(r.error == harness.ACCESS_DENIED
                            or (r.ok and rid not in [q[0] for q in r.value[0]]), r)
        for who, agent in (('kid2', kid2), ('the stranger', stranger), ('kid1 itself', kid1)):
            for method, sig, args in (('ApproveRequest', '(tu)', [rid, 0]),
                                      ('DenyRequest', '(t)', [rid])):
                with self.subTest(f'{method} as {who}: AccessDenied'):
                    r = agent.manager(method, sig, args)
                    self.assertEqual(r.error, harness.ACCESS_DENIED, r)
        for who, agent in (('kid2', kid2), ('the stranger', stranger)):
            with self.subTest(f"GetPurchases on kid1 as {who}: AccessDenied"):
                r = agent.child(self.kid1.uid, 'GetPurchases', '(u)', [30])
                self.assertEqual(r.error, harness.ACCESS_DENIED, r)
            with self.subTest(f"parentctl purchases as {who}: no kid1 records"):
                r = self.parentctl(agent.user, 'purchases', '--json')
                if r.returncode == 0:
                    doc = json.loads(r.stdout)
                    self.assertEqual([p for p in doc['purchases']
                                      if p.get('child') == self.kid1.name], [], doc)
        with self.subTest('kid1 reads its own log'):
            self.assertEqual([p[3] for p in self.purchases(agent=kid1)], ['steam://purchase/10'])
        with self.subTest('after all that, the process is still frozen and the request pending'):
            self.assertTrue(a.stopped() and not a.acted(), repr(a))
            self.assertEqual([q[4] for q in self.requests() if q[0] == rid], ['pending'])
        self.deny(rid)
        self.assert_killed(a)
        self.stop_ok(d)

    def test_signals_reach_child_and_viewer_only(self):
        '''PurchaseAttempt (unicast) reaches the child and a subscribed
        parent with view, not another child nor a stranger.'''
        self.polkit.allow(self.parent, [VIEW])
        d = self.daemon(self.config())
        kid1, kid2, parent, stranger = (self.agent(u) for u in (self.kid1, self.kid2,
                                                                 self.parent, self.stranger))
        for agent in (kid1, kid2, parent, stranger):
            agent.subscribe()
        a = self.attempt(['steam', 'steam://purchase/20'], program=self.tools.named['steam'])
        self.expect(a, 'frozen')
        held = self.request_of(a)

        def attempts(agent):
            return [tuple(s['args']) for s in agent.signals('PurchaseAttempt')]

        for who, agent in (('kid1', kid1), ('the parent (view)', parent)):
            with self.subTest(f'{who} gets PurchaseAttempt held'):
                got = assert_eventually(lambda agent=agent: attempts(agent), 3,
                                        f'PurchaseAttempt to {who}')
                self.assertEqual(len(got), 1, got)
                when, rule, app, outcome = got[0]
                self.assertEqual((rule, app, outcome), (STEAM_RULE, 'steam', 'held'))
                self.assertAlmostEqual(when, time.time(), delta=5)
                self.assertEqual([s['path'] for s in agent.signals('PurchaseAttempt')],
                                 [child_path(self.kid1.uid)])
        # Manage to answer; view alone cannot.
        with self.subTest('a parent with view only cannot deny'):
            r = parent.manager('DenyRequest', '(t)', [held[0]])
            self.assertEqual(r.error, harness.ACCESS_DENIED, r)
        self.polkit.allow(self.parent, [harness.MANAGE, VIEW])
        self.deny(held[0])
        self.assert_killed(a)
        for who, agent in (('kid1', kid1), ('the parent', parent)):
            with self.subTest(f'{who} gets PurchaseAttempt denied'):
                assert_eventually(lambda agent=agent: ('denied' in [s[3] for s in
                                                                    attempts(agent)]),
                                  3, lambda agent=agent: f'denied to {who}: {attempts(agent)}')
        for who, agent in (('kid2', kid2), ('the stranger', stranger)):
            with self.subTest(f'{who} gets no PurchaseAttempt'):
                self.assertEqual(agent.signals('PurchaseAttempt'), [])
        self.stop_ok(d)

    # --- the cap -------------------------------------------------------------------------------

    def test_cap_of_five_holds(self):
        '''Five distinct purchases are held; a sixth is killed and logged as
        blocked; a repeat of a held target joins its hold; once one is
        denied, a new one is held again.'''
        d = self.daemon(self.config())
        holds = []
        for n in range(MAX_HOLDS):
            a = self.attempt(['purchase-handler', f'steam://purchase/{300 + n}'])
            self.expect(a, 'frozen')
            holds.append((a, self.request_of(a)))
        with self.subTest('the sixth distinct purchase: killed, logged as blocked'):
            a = self.attempt(['purchase-handler', 'steam://purchase/399'])
            self.expect(a, 'killed')
            self.wait_outcome('steam://purchase/399', 'blocked')
            self.assertEqual(len(self.purchase_requests(state='pending')), MAX_HOLDS)
        with self.subTest('a repeat of a held target joins its hold'):
            again = self.attempt(['purchase-handler', 'steam://purchase/300'])
            self.expect(again, 'frozen')
            q = self.request_of(again)
            self.assertEqual(q[0], holds[0][1][0], q)
            self.assertEqual(sorted(q[5]['pids']), sorted([holds[0][0].pid, again.pid]))
            self.assertEqual(len(self.purchase_requests(state='pending')), MAX_HOLDS)
        self.deny(holds[0][1][0])
        with self.subTest('denying the hold kills both its processes'):
            self.assert_killed(holds[0][0])
            self.assert_killed(again)
        with self.subTest('below the cap again, a new purchase is held'):
            a = self.attempt(['purchase-handler', 'steam://purchase/398'])
            self.expect(a, 'frozen')
            holds.append((a, self.request_of(a)))
        for a, q in holds[1:]:
            self.deny(q[0])
            self.assert_killed(a)
        self.stop_ok(d)

    # --- restarts -------------------------------------------------------------------------

    def test_restart_while_held(self):
        '''SIGTERM while held: exit 0, the process stays frozen; after the
        restart the request is still pending and an approval resumes it.'''
        d = self.daemon(self.config())
        target = 'steam://purchase/1000'
        a = self.attempt(['purchase-handler', target])
        self.expect(a, 'frozen')
        held = self.request_of(a)
        self.stop_ok(d)
        with self.subTest('while the daemon is down, the process stays frozen'):
            assert_stays(lambda: a.stopped() and not a.acted(), 1.5,
                         lambda: f'frozen while the daemon is down: {a!r}')
        d.start()
        with self.subTest('after the restart, the request is still pending'):
            self.assertEqual([q[4] for q in self.requests() if q[0] == held[0]], ['pending'])
            self.assertEqual(self.request_of(a)[0], held[0])
            self.assertTrue(a.stopped() and not a.acted(), repr(a))
            self.assertEqual(len(self.purchase_requests(state='pending')), 1)
        with self.subTest('ApproveRequest after the restart resumes it: it acts'):
            self.approve(held[0])
            self.assert_resumed(a)
            self.wait_outcome(target, 'approved')
        self.stop_ok(d)

    def test_restart_after_held_process_killed(self):
        '''The held process is killed while the daemon is down: at the
        start, its request is expired, and answering it says so.'''
        d = self.daemon(self.config())
        target = 'steam://purchase/1001'
        a = self.attempt(['purchase-handler', target])
        self.expect(a, 'frozen')
        held = self.request_of(a)
        self.stop_ok(d)
        os.kill(a.pid, signal.SIGKILL)
        self.assertTrue(a.dead(5))
        d.start()
        with self.subTest('at the start, the request is expired'):
            self.assertEqual([q[4] for q in self.requests() if q[0] == held[0]], ['expired'])
            self.wait_outcome(target, 'expired')
        with self.subTest('ApproveRequest: NoSuchRequest, "expired"'):
            r = self.agent(self.parent).manager('ApproveRequest', '(tu)', [held[0], 0])
            self.assertEqual(r.error, harness.NO_SUCH_REQUEST, r)
            self.assertIn('expired', r.message, r)
        self.stop_ok(d)

    def test_restart_after_hold_expired_while_down(self):
        '''purchase_hold = 3s passes while the daemon is down: at the start
        the hold expires and the still-frozen process is killed.'''
        d = self.daemon(self.config(purchase_hold='3s'))
        target = 'steam://purchase/1002'
        a = self.attempt(['purchase-handler', target])
        self.expect(a, 'frozen')
        held = self.request_of(a)
        created = held[3]
        self.stop_ok(d)
        assert_eventually(lambda: time.time() >= created + 5, 10, 'the hold passed')
        self.assertTrue(a.stopped(), repr(a))
        d.start()
        with self.subTest('the frozen process is killed'):
            self.assert_killed(a, 5)
        with self.subTest('the request is expired'):
            assert_eventually(lambda: [q[4] for q in self.requests() if q[0] == held[0]]
                              == ['expired'], 3, 'request expired')
            self.wait_outcome(target, 'expired')
        self.stop_ok(d)

    # --- pid reuse ----------------------------------------------------------------------------

    def attempt_at_pid(self, pid, argv):
        '''An attempt that gets exactly this pid (free again), through
        ns_last_pid.'''
        for _ in range(20):
            with open('/proc/sys/kernel/ns_last_pid', 'w', encoding='ascii') as f:
                f.write(str(pid - 1))
            a = self.attempt(argv, label=f'{" ".join(argv)} at pid {pid}')
            if a.pid == pid:
                return a
            a.kill()
        self.skipTest(f'another process took pid {pid} 20 times')
        return None

    def test_pid_reuse_is_a_new_purchase(self):
        '''A new attempt whose process has the pid of an earlier, decided
        or dead, one is a purchase of its own: held with its own request
        and target; not resumed (or killed) by the old answer, not joined
        to the old hold.'''
        if not os.access('/proc/sys/kernel/ns_last_pid', os.W_OK):
            self.skipTest('cannot write /proc/sys/kernel/ns_last_pid')
        d = self.daemon(self.config())
        for n, (how, answer) in enumerate((('approved', self.approve), ('denied', self.deny),
                                           ('held whose process died', None))):
            old_target = f'steam://purchase/{5000 + 2 * n}'
            new_target = f'steam://purchase/{5001 + 2 * n}'
            with self.subTest(f'on the pid of a purchase {how}'):
                first = self.attempt(['purchase-handler', old_target])
                self.expect(first, 'frozen')
                old = self.request_of(first)
                if answer is not None:
                    answer(old[0])
                    (self.assert_resumed if how == 'approved' else self.assert_killed)(first)
                else:
                    os.kill(first.pid, signal.SIGKILL)  # the child kills its frozen process
                    self.assertTrue(first.dead(5))
                # parentd tells processes apart by pid and start time, which
                # the kernel keeps in clock ticks (10 ms). A child cannot get
                # its pid back within one tick: that needs cycling through the
                # whole pid space, or root's ns_last_pid, which this test uses.
                # So the reuse is made a tick later, as it would at the soonest.
                time.sleep(0.02)
                second = self.attempt_at_pid(first.pid, ['purchase-handler', new_target])
                got = second.outcome()
                held = [q for q in self.purchase_requests(state='pending')
                        if second.pid in q[5].get('pids', [])]
                self.assertEqual(
                    (got, [(q[5].get('target')) for q in held]), ('frozen', [new_target]),
                    f'the second attempt ({new_target}, pid {second.pid}) after a purchase '
                    f'{how} (request {old[0]}, {old_target}, same pid): {got}; requests '
                    f'holding it: {[(q[0], q[5].get("target")) for q in held]}; '
                    f'{second!r}')
            for q in self.purchase_requests(state='pending'):
                self.deny(q[0])
        self.stop_ok(d)

    # --- floods --------------------------------------------------------------------------------

    def flood(self, label, argv, gap_us=0, n=FLOOD):
        '''n attempts of kid1 at once (gap_us apart) from the launcher, while
        ListRequests is timed and the pending holds counted; then every
        pending hold is denied. Returns what became of the attempts.'''
        parent = self.agent(self.parent)
        before = {q[0] for q in self.purchase_requests()}
        argv_file = os.path.join(self.dir, f'flood-argv-{len(self.floods)}')
        with open(argv_file, 'w', encoding='utf-8') as f:
            f.write('\n'.join([self.tools.handler] + argv) + '\n')
        out_dir = os.path.join(self.dir, f'flood-{len(self.floods)}') + '/'
        os.mkdir(out_dir)
        os.chmod(out_dir, 0o1777)
        with open(self.proc_log, 'a', encoding='utf-8') as logf:
            popen = subprocess.Popen([self.tools.launcher, 'flood', str(self.kid1.uid), str(n),
                                      argv_file, str(gap_us)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=logf, cwd='/',
                                     start_new_session=True,
                                     env={'PATH': '/usr/bin:/bin', 'PDIT_OUT': out_dir})
        fl = Flood(popen)
        self.floods.append(fl)
        res = {'slowest': 0.0, 'most_pending': 0}
        started = time.monotonic()
        deadline = harness.Deadline(90)
        rid = None
        while True:
            self.assertFalse(deadline.passed(), f'{label}: the launcher did not start {n} '
                             f'processes in 90 s ({len(fl.spawned)} so far)')
            if rid is None:
                rid = parent.call_async(harness.MANAGER_PATH, harness.MANAGER_IFACE,
                                        'ListRequests')
                asked = time.monotonic()
            fl.read(0.05)
            r = answer_now(parent, rid)
            if r is None:
                waited = time.monotonic() - asked
                self.assertLess(waited, CALL_DEADLINE + 10,
                                f'{label}: ListRequests unanswered for {waited:.1f} s')
                continue
            rid = None
            self.assertTrue(r.ok, r)
            res['slowest'] = max(res['slowest'], r.elapsed or 0)
            res['most_pending'] = max(res['most_pending'], len(
                [q for q in r.value[0] if q[2] == 'purchase' and q[1] == self.kid1.uid
                 and q[4] == 'pending']))
            if fl.all_spawned:
                break
        res['spawn_time'] = time.monotonic() - started
        self.assertEqual(len(fl.spawned), n, f'{label}: the launcher started {len(fl.spawned)}')
        box = {}

        def settled():
            fl.read(0)
            held = {pid for q in self.purchase_requests(state='pending', agent=parent)
                    for pid in q[5].get('pids', [])}
            box['left'] = [(pid, proc_state(pid)) for pid in fl.spawned
                           if pid not in fl.ended and not (pid in held and proc_state(pid) == 'T')]
            return not box['left']

        # Each one ends up held by a pending request, or reaped by the
        # launcher (killed, or ran and exited). Stopped is not enough: the
        # sentry stops every attempt at once, and the main loop decides on
        # each afterwards.
        assert_eventually(settled, 30, lambda: f'{label}: every process held or ended '
                          f'({len(box["left"])} neither, e.g. {box["left"][:5]})', interval=0.1)
        fl.read(0)
        res['held'] = [pid for pid in fl.spawned if pid not in fl.ended
                       and proc_state(pid) == 'T']
        res['killed_at_once'] = [p for p, how in fl.ended.items() if how == 'signal 9']
        res['exited'] = [p for p, how in fl.ended.items() if how != 'signal 9']
        r = parent.manager('ListRequests')
        self.assertTrue(r.ok, r)
        res['slowest'] = max(res['slowest'], r.elapsed or 0)
        res['requests'] = [q for q in r.value[0] if q[2] == 'purchase'
                           and q[1] == self.kid1.uid and q[0] not in before]
        for q in self.purchase_requests(state='pending'):
            self.deny(q[0])
        end = harness.Deadline(30)
        while not fl.all_ended and not fl.eof and not end.passed():
            fl.read(end.left())
        res['acted'] = os.listdir(out_dir)
        res['ended'] = dict(fl.ended)
        res['spawned'] = list(fl.spawned)
        popen.wait(10)
        self.note(f'{label}: {n} started in {res["spawn_time"]:.2f} s; held '
                  f'{len(res["held"])}, killed at exec {len(res["killed_at_once"])}, ran to the '
                  f'end {len(res["exited"])}, acted {len(res["acted"])}; requests filed '
                  f'{len(res["requests"])}; most pending seen {res["most_pending"]}; slowest '
                  f'ListRequests {res["slowest"] * 1000:.0f} ms')
        return res

    def check_flood(self, label, res, max_requests=MAX_HOLDS, unpaced=False):
        with self.subTest(f'{label}: ListRequests answered within {CALL_DEADLINE:g} s'):
            self.assertLess(res['slowest'], CALL_DEADLINE)
        with self.subTest(f'{label}: never more than {MAX_HOLDS} holds pending'):
            self.assertLessEqual(res['most_pending'], MAX_HOLDS)
            self.assertLessEqual(len(res['requests']), max_requests,
                                 [(q[0], q[4], q[5].get('target')) for q in res['requests']])
        with self.subTest(f'{label}: no attempt acted; each was stopped or killed first'):
            timing_matters(self)
            if unpaced:
                # As fast as a launcher can start them (2,000+ a second on
                # two CPUs): the sentry thread must keep up.
                self.note(f'{label}: {len(res["acted"])} of {len(res["spawned"])} acted '
                          f'before being stopped')
            self.assertEqual(len(res['acted']), 0,
                             f'{len(res["acted"])} of {len(res["spawned"])} attempts acted '
                             f'({len(res["exited"])} ran to the end, '
                             f'{len(res["acted"]) - len(res["exited"])} were stopped or killed '
                             f'only after they acted)')
        with self.subTest(f'{label}: every attempt ended by SIGKILL (at exec or on denial)'):
            timing_matters(self)
            outcomes = {}
            for how in res['ended'].values():
                outcomes[how] = outcomes.get(how, 0) + 1
            self.assertEqual(outcomes, {'signal 9': len(res['spawned'])})

    def measure_rss(self, d):
        return None if os.environ.get('PARENTD_WRAPPER') else rss_kib(d.proc.pid)

    def warm_up(self):
        a = self.attempt(['purchase-handler', 'steam://purchase/1'])
        self.expect(a, 'frozen')
        self.deny(self.request_of(a)[0])
        self.assert_killed(a)

    def test_flood_same_target(self):
        '''1,000 attempts at one target as fast as they start: one hold
        takes the first 8, the rest are killed, the log coalesces them, the daemon answers
        throughout, its memory stays; none acts, the denial kills all.'''
        d = self.daemon(self.config())
        self.warm_up()
        rss0, log0 = self.measure_rss(d), len(self.purchases())
        res = self.flood('same target', ['steam', 'steam://purchase/4242'])
        rss1 = self.measure_rss(d)
        self.check_flood('same target', res, max_requests=1, unpaced=True)
        with self.subTest('same target: one request holds the first 8, the rest are killed'):
            # A hold keeps at most 8 processes of one purchase frozen, so
            # that a flood costs the daemon a bounded amount per attempt.
            self.assertEqual(len(res['requests']), 1)
            self.assertEqual(len(res['held']), 8)
            self.assertEqual(sorted(res['requests'][0][5].get('pids', [])),
                             sorted(res['held']))
        with self.subTest('same target: the log coalesces the repeats'):
            log = self.purchases()
            self.note(f'same target: log {log0} -> {len(log)} records')
            self.assertLessEqual(len(log) - log0, 2, log[:5])
            self.wait_outcome('steam://purchase/4242', 'denied')
        if rss0 is not None:
            self.note(f'daemon RSS {rss0} KiB before, {rss1} KiB with the flood held')
            with self.subTest('same target: the daemon RSS grew by less than 8 MiB'):
                timing_matters(self)
                self.assertLess(rss1 - rss0, 8 * 1024)
        self.stop_ok(d)

    def test_flood_distinct_targets(self):
        '''1,000 attempts, each at a target of its own, as fast as they
        start: 5 held, the rest killed at exec; none acts.'''
        d = self.daemon(self.config())
        self.warm_up()
        res = self.flood('distinct targets', ['purchase-handler', 'steam://purchase/1%N'])
        self.check_flood('distinct targets', res, unpaced=True)
        with self.subTest(f'distinct targets: {MAX_HOLDS} held, the rest killed (or, for the '
                          f'few that outran parentd, ended by themselves)'):
            timing_matters(self)
            self.assertEqual(len(res['held']), MAX_HOLDS)
            self.assertEqual(len(res['killed_at_once']) + len(res['exited']), FLOOD - MAX_HOLDS)
        self.stop_ok(d)

    def test_flood_block(self):
        '''Under block, 1,000 attempts as fast as they start: all killed
        at exec, none acts.'''
        d = self.daemon(self.config(kid1='block'))
        res = self.flood('block', ['purchase-handler', 'steam://purchase/1%N'])
        self.check_flood('block', res, max_requests=0, unpaced=True)
        with self.subTest('block: all killed at exec'):
            self.assertEqual(len(res['killed_at_once']), FLOOD)
        self.stop_ok(d)

    def test_flood_bounded(self):
        '''Twice 1,000 distinct attempts, 5 ms apart (200 a second, the
        exec rate testing.md gives for slow machines): the log, state.json and the daemon's memory do not grow
        with the second thousand.'''
        d = self.daemon(self.config())
        self.warm_up()
        rss = [self.measure_rss(d)]
        logs = [len(self.purchases())]
        sizes = [os.path.getsize(os.path.join(d.state_dir, 'state.json'))]
        for round_ in (1, 2):
            label = f'paced round {round_}'
            res = self.flood(label, ['purchase-handler', f'steam://purchase/{round_}0000%N'],
                             gap_us=PACED_GAP_US)
            self.check_flood(label, res)
            rss.append(self.measure_rss(d))
            logs.append(len(self.purchases()))
            sizes.append(os.path.getsize(os.path.join(d.state_dir, 'state.json')))
        self.note(f'log records {logs}; state.json bytes {sizes}; daemon RSS KiB {rss}')
        with self.subTest('the log is capped: 2,001 distinct attempts leave at most 1,000 '
                          'records'):
            self.assertLessEqual(logs[2], 1000, logs)
            self.assertLessEqual(logs[2], logs[1] + 5, logs)
        with self.subTest('state.json stays small: the attempts past the cap share records'):
            # Each round adds its 5 holds and one flood record; the
            # thousands killed past the cap do not each add a record.
            self.assertLessEqual(sizes[2], 64 * 1024, sizes)
            self.assertLessEqual(sizes[2] - sizes[1], sizes[1] - sizes[0] + 4096, sizes)
        if rss[0] is not None:
            with self.subTest('the daemon RSS grew by less than 16 MiB in all, 4 MiB in the '
                              'second round'):
                timing_matters(self)
                self.assertLess(rss[2] - rss[0], 16 * 1024, rss)
                self.assertLess(rss[2] - rss[1], 4 * 1024, rss)
        self.stop_ok(d)


if __name__ == '__main__':
    sys.exit(harness.main('pur', 63600))
