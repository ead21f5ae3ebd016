#!/usr/bin/python3
# Screen time counting from logind: only while a session is Active, not
# IdleHint and not LockedHint; several sessions count once; suspend never
# counts; text sessions per count_text_sessions; logind going away.

import sys

sys.dont_write_bytecode = True  # nothing written next to the sources
import harness  # noqa: E402
from harness import assert_eventually, assert_stays, child_path


class CountingTest(harness.TestCase):
    def config(self, **kid2):
        return harness.make_config(
            {'grace': '2s', 'warnings': '10s'},
            {self.kid1: {'daily_limit': '1h'},
             self.kid2: dict({'daily_limit': '1h'}, **kid2)})

    def test_counts_only_active_unlocked_not_idle(self):
        d = self.daemon(self.config())
        with self.subTest('not counting without a session'):
            self.assertIs(self.prop(self.kid1, 'Counting'), False)
            self.assertEqual(self.prop(self.kid1, 'UsedToday'), 0)
        self.logind.add_session('c1', self.kid1)
        with self.subTest('counting while active, unlocked, not idle'):
            self.assert_counts(self.kid1, 2)
            props = self.env.child_props(self.kid1)
            self.assertEqual(props['RemainingToday'],
                             props['LimitToday'] + props['BonusToday'] - props['UsedToday'])
        for prop, value in (('IdleHint', True), ('LockedHint', True), ('Active', False)):
            with self.subTest(f'not counting while {prop}={value}'):
                self.logind.set_props('c1', {prop: value})
                self.assert_not_counting(self.kid1)
            with self.subTest(f'counting again after {prop}={not value}'):
                self.logind.set_props('c1', {prop: not value})
                self.assert_counts(self.kid1, 1)
        with self.subTest('other children unaffected'):
            self.assertIs(self.prop(self.kid2, 'Counting'), False)
            self.assertEqual(self.prop(self.kid2, 'UsedToday'), 0)
        self.stop_ok(d)

    def test_two_sessions_count_once(self):
        d = self.daemon(self.config())
        self.logind.add_session('c1', self.kid1)
        self.logind.add_session('c2', self.kid1, type='wayland')
        self.wait_prop(self.kid1, 'Counting', True)
        before = self.prop(self.kid1, 'UsedToday')
        t0 = harness.time.monotonic()
        self.wait_prop(self.kid1, 'UsedToday', lambda v: v >= before + 4, timeout=9)
        harness.time.sleep(1.0)  # a measured interval, not synchronisation
        used = self.prop(self.kid1, 'UsedToday') - before
        wall = harness.time.monotonic() - t0
        self.assertLessEqual(used, wall + 1.5, f'{used} s counted in {wall:.1f} s with two sessions')
        self.assertGreaterEqual(used, wall - 1.5, f'{used} s counted in {wall:.1f} s')
        with self.subTest('one session left still counts'):
            self.logind.remove_session('c1')
            self.assert_counts(self.kid1, 1)
        with self.subTest('no session left: not counting'):
            self.logind.remove_session('c2')
            self.assert_not_counting(self.kid1, 1.5)
        self.stop_ok(d)

    def test_suspend_not_counted(self):
        d = self.daemon(self.config())
        self.logind.add_session('c1', self.kid1)
        self.assert_counts(self.kid1, 1)
        with self.subTest('PrepareForSleep(true) stops counting'):
            self.logind.prepare_for_sleep(True)
            self.assert_not_counting(self.kid1)
        with self.subTest('PrepareForSleep(false) resumes'):
            self.logind.prepare_for_sleep(False)
            self.assert_counts(self.kid1, 1)
        self.stop_ok(d)

    def test_text_sessions(self):
        d = self.daemon(self.config(count_text_sessions='no'))
        self.logind.add_session('t1', self.kid1, type='tty')
        self.logind.add_session('t2', self.kid2, type='tty')
        with self.subTest('tty counts by default'):
            self.assert_counts(self.kid1, 1)
        with self.subTest('tty does not count with count_text_sessions = no'):
            self.assert_not_counting(self.kid2, 2)
        with self.subTest('a graphical session of that child counts'):
            self.logind.add_session('g2', self.kid2)
            self.assert_counts(self.kid2, 1)
        self.stop_ok(d)

    def test_greeter_and_other_users_ignored(self):
        d = self.daemon(self.config())
        self.logind.add_session('s1', self.stranger)
        self.logind.add_session('p1', self.parent)
        self.logind.add_session('gr', self.kid1, cls='greeter')
        with self.subTest('a greeter-class session of a child does not count'):
            self.assert_not_counting(self.kid1, 2)
        with self.subTest('non-children are not children'):
            children = self.env.bus.call(harness.BUS_NAME, harness.MANAGER_PATH,
                                         harness.MANAGER_IFACE, 'ListChildren')[0]
            self.assertEqual(sorted(c[0] for c in children),
                             sorted([self.kid1.uid, self.kid2.uid]))
        self.stop_ok(d)

    def test_session_seen_at_start(self):
        '''Sessions that exist before the daemon starts (ListSessions).'''
        self.logind.add_session('c1', self.kid1, announce=False)
        self.logind.add_session('c2', self.kid2, announce=False, idle=True)
        d = self.daemon(self.config())
        with self.subTest('active session found at start counts'):
            self.assert_counts(self.kid1, 1)
        with self.subTest('idle session found at start does not count'):
            self.assert_not_counting(self.kid2, 1.5)
        with self.subTest('its later PropertiesChanged are followed'):
            self.logind.set_props('c2', {'IdleHint': False})
            self.assert_counts(self.kid2, 1)
        self.stop_ok(d)

    def test_logind_restart(self):
        d = self.daemon(self.config())
        self.logind.add_session('c1', self.kid1)
        self.assert_counts(self.kid1, 1)
        self.logind.kill()
        with self.subTest('while logind is gone, the last known state stands'):
            assert_stays(lambda: self.prop(self.kid1, 'Counting') is True, 2.0,
                         'kid1 still counting while logind is away')
            self.assertTrue(d.alive())
        self.logind.start()
        with self.subTest('after logind returns, its sessions are followed'):
            # The new logind knows kid1's session as idle and has a new one of
            # kid2; both are announced, as the daemon may have listed before.
            self.logind.add_session('c1', self.kid1, idle=True)
            self.logind.add_session('c9', self.kid2)
            self.assert_not_counting(self.kid1, 1.5)
            self.assert_counts(self.kid2, 1)
        with self.subTest('PropertiesChanged of the new logind are followed'):
            self.logind.set_props('c1', {'IdleHint': False})
            self.assert_counts(self.kid1, 1)
        self.stop_ok(d)

    def test_counting_property_invalidated(self):
        '''Property changes are signalled as invalidations only.'''
        a = self.agent(self.kid1)
        d = self.daemon(self.config())
        self.logind.add_session('c1', self.kid1)
        self.wait_prop(self.kid1, 'Counting', True)
        changed = assert_eventually(
            lambda: [s for s in a.signals('PropertiesChanged')
                     if s['path'] == child_path(self.kid1.uid)],
            3, 'PropertiesChanged on kid1 object seen by kid1')
        for s in changed:
            iface, values, invalidated = s['args']
            self.assertEqual(iface, harness.CHILD_IFACE)
            self.assertEqual(values, {}, 'property values must not be sent, only invalidated')
            self.assertTrue(invalidated)
        with self.subTest('other users do not see the child\'s PropertiesChanged'):
            for user in (self.kid2, self.stranger):
                leaked = [s for s in self.agent(user).signals()
                          if s['path'] == child_path(self.kid1.uid) and s['args'][1]]
                self.assertEqual(leaked, [], f'{user.name} received values of kid1')
        self.stop_ok(d)


if __name__ == '__main__':
    sys.exit(harness.main('cnt', 62000))
