#!/usr/bin/python3
# Enforcement: warnings (only to subscribers who may read the child), lock at
# zero plus grace, relock on unlock, a child with no time left logging in,
# logout, allowed hours, LockOut and GrantTime.

import calendar
import sys
import time

sys.dont_write_bytecode = True  # nothing written next to the sources
import harness  # noqa: E402
from harness import assert_eventually, child_path

GRACE = 2


class Timeline:
    '''Polls a child's properties and the mock's lock calls, and remembers
    when each thing was first seen (monotonic seconds).'''

    def __init__(self, test, user, sid):
        self.test = test
        self.user = user
        self.sid = sid
        self.first_state = {}
        self.zero_at = None
        self.lock_at = None
        self.remaining_at_lock_calls = None
        self.samples = []

    def poll(self, until, timeout):
        deadline = harness.Deadline(timeout)
        while not deadline.passed():
            now = time.monotonic()
            props = self.test.env.child_props(self.user)
            self.samples.append((round(now, 2), props['State'], props['RemainingToday'],
                                 props['Counting']))
            self.first_state.setdefault(props['State'], now)
            if props['RemainingToday'] <= 0 and self.zero_at is None:
                self.zero_at = now
            if self.lock_at is None and self.test.logind.lock_calls(self.sid) > 0:
                self.lock_at = now
                self.remaining_at_lock_calls = props['RemainingToday']
            if until(self):
                return
            time.sleep(0.1)
        raise AssertionError(f'timeline did not reach its end in {timeout} s: '
                             f'{self.samples[-5:]}')


class EnforceTest(harness.TestCase):
    def config(self, kid1=None, **daemon):
        return harness.make_config(
            dict({'grace': f'{GRACE}s', 'warnings': '10s 5s'}, **daemon),
            {self.kid1: kid1 or {'daily_limit': '20s'},
             self.kid2: {'daily_limit': '1h'}})

    def child_signals(self, agent, member, user=None):
        user = user or self.kid1
        return [s for s in agent.signals(member) if s['path'] == child_path(user.uid)]

    def test_limit_warnings_grace_lock_relock(self):
        agents = {u.name: self.agent(u) for u in self.users.all}
        quiet_parent = self.agent(self.parent, fresh=True)
        d = self.daemon(self.config())
        for a in agents.values():
            a.subscribe()
        self.logind.add_session('s1', self.kid1)
        tl = Timeline(self, self.kid1, 's1')
        tl.poll(lambda t: t.lock_at is not None, 35)
        k1 = agents[self.kid1.name]
        par = agents[self.parent.name]

        with self.subTest('State goes ok, warning, grace, exhausted'):
            states = [s[1] for s in tl.samples]
            seen = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
            self.assertEqual(seen[:3], ['ok', 'warning', 'grace'], tl.samples)
            self.wait_prop(self.kid1, 'State', 'exhausted', timeout=3)
        for who, agent in (('kid1', k1), ('the subscribed parent (view)', par)):
            for left in (10, 5):
                with self.subTest(f'Warning daily {left}s reaches {who}'):
                    warnings = [s for s in self.child_signals(agent, 'Warning')
                                if s['args'][0] == 'daily' and left - 2 <= s['args'][1] <= left]
                    self.assertEqual(len(warnings), 1, self.child_signals(agent, 'Warning'))
            with self.subTest(f'LimitReached daily lock reaches {who}'):
                reached = assert_eventually(lambda a=agent: self.child_signals(a, 'LimitReached'),
                                            3, 'LimitReached')
                self.assertEqual([tuple(s['args']) for s in reached], [('daily', 'lock')])
        for who, agent in (('kid2', agents[self.kid2.name]),
                           ('the stranger', agents[self.stranger.name]),
                           ('a parent who did not subscribe', quiet_parent)):
            with self.subTest(f'no signal of kid1 reaches {who}'):
                leaked = [s for s in agent.signals() if s['path'] == child_path(self.kid1.uid)
                          and s['member'] != 'PropertiesChanged']
                self.assertEqual(leaked, [])
        with self.subTest(f'Lock after zero plus {GRACE}s grace, not before'):
            self.assertIsNotNone(tl.zero_at)
            self.assertGreaterEqual(tl.lock_at - tl.zero_at, GRACE - 0.7, tl.samples)
            self.assertLessEqual(tl.lock_at - tl.zero_at, GRACE + 1.5, tl.samples)

        # The screen locker reacts to Lock.
        self.logind.set_props('s1', {'LockedHint': True})
        with self.subTest('locked: not counting'):
            self.assert_not_counting(self.kid1, 1)
        with self.subTest('relock at once when unlocked with no time left'):
            n = self.logind.lock_calls('s1')
            t0 = time.monotonic()
            self.logind.set_props('s1', {'LockedHint': False})
            assert_eventually(lambda: self.logind.lock_calls('s1') > n, 3, 'Lock again')
            self.assertLess(time.monotonic() - t0, 1.5)
        with self.subTest('a new session of the exhausted child is locked at once'):
            t0 = time.monotonic()
            self.logind.add_session('s2', self.kid1, type='wayland')
            assert_eventually(lambda: self.logind.lock_calls('s2') > 0, 3, 'Lock of s2')
            self.assertLess(time.monotonic() - t0, 1.5)
        with self.subTest('the other child is untouched'):
            self.assertEqual(self.prop(self.kid2, 'State'), 'ok')
        self.stop_ok(d)

    def test_exhausted_child_logging_in_after_restart(self):
        d = self.daemon(self.config({'daily_limit': '3s'}, grace='1s'))
        self.logind.add_session('s1', self.kid1)
        assert_eventually(lambda: self.logind.lock_calls('s1') > 0, 10, 'first lock')
        self.logind.remove_session('s1')
        self.stop_ok(d)
        d.start()
        with self.subTest('still exhausted after a restart'):
            self.wait_prop(self.kid1, 'State', 'exhausted', 2)
        with self.subTest('logging in: locked at once'):
            t0 = time.monotonic()
            self.logind.add_session('s2', self.kid1)
            assert_eventually(lambda: self.logind.lock_calls('s2') > 0, 3, 'Lock of s2')
            self.assertLess(time.monotonic() - t0, 1.5)
        self.stop_ok(d)

    def test_logout_action(self):
        agent = self.agent(self.kid1)
        d = self.daemon(self.config({'daily_limit': '2s', 'on_limit': 'logout'}, grace='1s'))
        agent.subscribe()
        self.logind.add_session('s1', self.kid1)
        assert_eventually(lambda: self.logind.terminate_calls('s1') > 0, 10,
                          'Terminate of s1 (on_limit = logout)')
        with self.subTest('LimitReached says logout'):
            reached = assert_eventually(lambda: self.child_signals(agent, 'LimitReached'), 3,
                                        'LimitReached')
            self.assertEqual(tuple(reached[0]['args']), ('daily', 'logout'))
        self.stop_ok(d)

    def test_outside_allowed_hours(self):
        now = time.gmtime()
        start = (now.tm_hour + 2) % 24
        end = (now.tm_hour + 3) % 24
        d = self.daemon(self.config({'daily_limit': '1h',
                                     'allowed_hours': f'{start:02d}:00-{end:02d}:00'}))
        with self.subTest('State outside-hours'):
            self.wait_prop(self.kid1, 'State', 'outside-hours', 2)
        with self.subTest('NextChange is the start of the allowed hours'):
            day = calendar.timegm((now.tm_year, now.tm_mon, now.tm_mday, 0, 0, 0))
            expected = day + start * 3600
            if expected <= time.time():
                expected += 86400
            self.assertEqual(self.prop(self.kid1, 'NextChange'), expected)
        with self.subTest('logging in outside allowed hours: locked at once'):
            t0 = time.monotonic()
            self.logind.add_session('s1', self.kid1)
            assert_eventually(lambda: self.logind.lock_calls('s1') > 0, 3, 'Lock of s1')
            self.assertLess(time.monotonic() - t0, 1.5)
        with self.subTest('allowed_hours = never'):
            d.write_config(self.config({'daily_limit': '1h', 'allowed_hours': 'never'}))
            d.signal(harness.signal.SIGHUP)
            self.wait_prop(self.kid1, 'State', 'outside-hours', 3)
        self.stop_ok(d)

    def test_end_of_allowed_hours(self):
        '''The wall clock under faketime, 15 s before allowed hours end.'''
        harness.require_faketime(self)
        agent = self.agent(self.kid1)
        start = '2026-06-01 19:59:45'
        d = self.daemon(self.config({'daily_limit': '1h', 'allowed_hours': '07:00-20:00'}),
                        start=False, extra_env=harness.faketime_env('@' + start))
        d.start()
        agent.subscribe()
        end = calendar.timegm(time.strptime('2026-06-01 20:00:00', '%Y-%m-%d %H:%M:%S'))
        with self.subTest('NextChange is the end of the allowed hours'):
            self.assertEqual(self.prop(self.kid1, 'NextChange'), end)
        self.logind.add_session('s1', self.kid1)
        tl = Timeline(self, self.kid1, 's1')
        tl.poll(lambda t: t.lock_at is not None, 30)
        for left in (10, 5):
            with self.subTest(f'Warning hours {left}s'):
                warnings = [s for s in self.child_signals(agent, 'Warning')
                            if s['args'][0] == 'hours' and left - 2 <= s['args'][1] <= left]
                self.assertEqual(len(warnings), 1, self.child_signals(agent, 'Warning'))
        with self.subTest('State outside-hours after the end'):
            self.wait_prop(self.kid1, 'State', 'outside-hours', 5)
        with self.subTest('LimitReached hours lock'):
            reached = assert_eventually(lambda: self.child_signals(agent, 'LimitReached'), 3,
                                        'LimitReached')
            self.assertEqual(tuple(reached[0]['args']), ('hours', 'lock'))
        self.stop_ok(d)

    def test_lock_out(self):
        parent = self.agent(self.parent)
        d = self.daemon(self.config({'daily_limit': '1h'}))
        self.logind.add_session('s1', self.kid1)
        self.wait_prop(self.kid1, 'Counting', True)
        t_call = time.time()
        r = parent.child(self.kid1.uid, 'LockOut', '(u)', [30])
        self.assertTrue(r.ok, r)
        with self.subTest('LockOut(30): locked-out and locked at once'):
            self.wait_prop(self.kid1, 'State', 'locked-out', 1.5)
            assert_eventually(lambda: self.logind.lock_calls('s1') > 0, 1.5, 'Lock of s1')
        with self.subTest('NextChange is the end of the lock-out'):
            self.assertAlmostEqual(self.prop(self.kid1, 'NextChange'), t_call + 30, delta=3)
        self.logind.set_props('s1', {'LockedHint': True})
        with self.subTest('relock when unlocked during the lock-out'):
            n = self.logind.lock_calls('s1')
            self.logind.set_props('s1', {'LockedHint': False})
            assert_eventually(lambda: self.logind.lock_calls('s1') > n, 1.5, 'Lock again')
            self.logind.set_props('s1', {'LockedHint': True})
        with self.subTest('LockOut(0) ends it'):
            r = parent.child(self.kid1.uid, 'LockOut', '(u)', [0])
            self.assertTrue(r.ok, r)
            self.wait_prop(self.kid1, 'State', 'ok', 2)
        with self.subTest('after LockOut(0), unlocking is allowed and counts'):
            n = self.logind.lock_calls('s1')
            self.logind.set_props('s1', {'LockedHint': False})
            self.assert_counts(self.kid1, 1)
            self.assertEqual(self.logind.lock_calls('s1'), n)
        self.stop_ok(d)

    def test_grant_time(self):
        parent = self.agent(self.parent)
        d = self.daemon(self.config({'daily_limit': '20s'}))
        with self.subTest('GrantTime(+30)'):
            r = parent.child(self.kid1.uid, 'GrantTime', '(x)', [30])
            self.assertTrue(r.ok, r)
            self.wait_prop(self.kid1, 'BonusToday', 30, 2)
            self.assertEqual(self.prop(self.kid1, 'RemainingToday'), 50)
            self.assertEqual(self.prop(self.kid1, 'LimitToday'), 20)
        with self.subTest('GrantTime(-40)'):
            r = parent.child(self.kid1.uid, 'GrantTime', '(x)', [-40])
            self.assertTrue(r.ok, r)
            self.wait_prop(self.kid1, 'BonusToday', -10, 2)
            self.assertEqual(self.prop(self.kid1, 'RemainingToday'), 10)
        self.logind.add_session('s1', self.kid1)
        self.wait_prop(self.kid1, 'Counting', True)
        with self.subTest('removing all time: grace, then lock'):
            r = parent.child(self.kid1.uid, 'GrantTime', '(x)', [-100])
            self.assertTrue(r.ok, r)
            self.wait_prop(self.kid1, 'RemainingToday', lambda v: v <= 0, 2)
            assert_eventually(lambda: self.logind.lock_calls('s1') > 0, GRACE + 2, 'Lock')
            self.wait_prop(self.kid1, 'State', 'exhausted', 2)
        self.logind.set_props('s1', {'LockedHint': True})
        with self.subTest('granting time to an exhausted child: ok, unlocking allowed'):
            r = parent.child(self.kid1.uid, 'GrantTime', '(x)', [300])
            self.assertTrue(r.ok, r)
            self.wait_prop(self.kid1, 'State', 'ok', 2)
            n = self.logind.lock_calls('s1')
            self.logind.set_props('s1', {'LockedHint': False})
            self.assert_counts(self.kid1, 1)
            self.assertEqual(self.logind.lock_calls('s1'), n)
        self.stop_ok(d)


if __name__ == '__main__':
    sys.exit(harness.main('enf', 62200))
