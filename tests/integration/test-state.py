#!/usr/bin/python3
# Durable state and configuration: SIGTERM saves, kill -9 loses at most
# 15 s, a corrupt state file, a read-only state directory, reload with a
# broken configuration (D-Bus and SIGHUP), the last good configuration at
# start, day rollover (faketime), and sd_notify.

import calendar
import glob
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # nothing written next to the sources
import harness  # noqa: E402
from harness import assert_eventually


class StateTest(harness.TestCase):
    def config(self, kid1_limit='1h', **daemon):
        return harness.make_config(dict({'grace': '2s', 'warnings': '10s'}, **daemon),
                                   {self.kid1: {'daily_limit': kid1_limit},
                                    self.kid2: {'daily_limit': '1h'}})

    def sighup(self, d):
        '''SIGHUP, then wait for the daemon's READY=1 that ends the reload.'''
        d.read_notify(0)
        d.signal(signal.SIGHUP)
        deadline = harness.Deadline(5)
        while not deadline.passed():
            if any('READY=1' in m.split('\n') for m in d.read_notify(deadline.left())):
                return
        raise AssertionError('no READY=1 after SIGHUP')

    def test_notify_ready_status_watchdog(self):
        self.logind.add_session('c1', self.kid1)
        t0 = time.monotonic()
        d = self.daemon(self.config(), extra_env={'WATCHDOG_USEC': '4500000'})
        with self.subTest('STATUS= summarises children and counting'):
            assert_eventually(lambda: d.read_notify(0.2) is not None and
                              any('1 counting' in s for s in d.status), 3,
                              lambda: f'a STATUS with "1 counting" (got {d.status})')
            self.assertTrue(any('2 children' in s for s in d.status), d.status)
        with self.subTest('WATCHDOG=1 at least every WATCHDOG_USEC (4.5 s), over 12 s'):
            pings = [t0]
            deadline = harness.Deadline(12)
            while not deadline.passed():
                for m in d.read_notify(deadline.left()):
                    if 'WATCHDOG=1' in m.split('\n'):
                        pings.append(time.monotonic())
            gaps = [b - a for a, b in zip(pings, pings[1:])]
            self.assertGreaterEqual(len(gaps), 2, pings)
            self.assertLess(max(gaps), 4.5, [round(g, 2) for g in gaps])
        self.stop_ok(d)

    def test_sigterm_saves(self):
        d = self.daemon(self.config())
        self.logind.add_session('c1', self.kid1)
        self.assert_counts(self.kid1, 3)
        r = self.agent(self.parent).child(self.kid1.uid, 'GrantTime', '(x)', [77])
        self.assertTrue(r.ok, r)
        used = self.prop(self.kid1, 'UsedToday')
        self.stop_ok(d)
        self.assertTrue(os.path.exists(os.path.join(d.state_dir, 'state.json')))
        d.start()
        self.assertGreaterEqual(self.prop(self.kid1, 'UsedToday'), used)
        self.assertLessEqual(self.prop(self.kid1, 'UsedToday'), used + 2)
        self.assertEqual(self.prop(self.kid1, 'BonusToday'), 77)
        self.stop_ok(d)

    def test_kill9_loses_at_most_15s(self):
        d = self.daemon(self.config())
        self.logind.add_session('c1', self.kid1)
        self.wait_prop(self.kid1, 'Counting', True)
        self.wait_prop(self.kid1, 'UsedToday', lambda v: v >= 20, timeout=25)
        used = self.prop(self.kid1, 'UsedToday')
        d.kill9()
        d.start()
        after = self.prop(self.kid1, 'UsedToday')
        print(f'# kill -9 after {used} s counted: {after} s back, {used - after} s lost',
              flush=True)
        self.assertGreaterEqual(after, used - 16,
                                f'{used - after} s lost (at most 15 s, +1 for rounding)')
        self.assertLessEqual(after, used + 2)
        self.stop_ok(d)

    def corrupt_case(self, content):
        d = self.daemon(self.config(), start=False)
        os.makedirs(d.state_dir, mode=0o700)
        with open(os.path.join(d.state_dir, 'state.json'), 'wb') as f:
            f.write(content)
        d.start()
        aside = glob.glob(os.path.join(d.state_dir, 'state.json.corrupt-*'))
        self.assertEqual(len(aside), 1, os.listdir(d.state_dir))
        with open(aside[0], 'rb') as f:
            self.assertEqual(f.read(), content, 'the corrupt file is kept as it was')
        self.assertIn('corrupt', d.log_text().lower())
        d.read_notify(0.2)
        self.assertTrue(any('corrupt' in line.lower() for line in d.status),
                        f'STATUS= says the state was corrupt: {d.status}')
        self.assertIsInstance(self.env.manager_prop('Version'), str)
        self.logind.add_session('c1', self.kid1)
        self.assert_counts(self.kid1, 1)
        self.stop_ok(d)
        self.assertTrue(os.path.exists(os.path.join(d.state_dir, 'state.json')))
        return d

    def test_corrupt_state_garbage(self):
        self.corrupt_case(b'\x00\xffgarbage{{{ not json at all\n' * 20)

    def test_corrupt_state_truncated(self):
        d = self.daemon(self.config())
        self.logind.add_session('c1', self.kid1)
        self.assert_counts(self.kid1, 2)
        self.stop_ok(d)
        with open(os.path.join(d.state_dir, 'state.json'), 'rb') as f:
            good = f.read()
        self.logind.reset()
        self.corrupt_case(good[:len(good) // 2])

    def test_readonly_state_dir(self):
        d = self.daemon(self.config(), start=False)
        os.makedirs(d.state_dir)
        mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'ro,size=1m,mode=0700', 'tmpfs',
                                  d.state_dir], capture_output=True, text=True, check=False)
        if mounted.returncode != 0:
            self.skipTest(f'cannot mount a read-only tmpfs here: {mounted.stderr.strip()}')
        self.addCleanup(subprocess.run, ['umount', '-l', d.state_dir], check=False)
        d.start()
        self.logind.add_session('c1', self.kid1)
        with self.subTest('keeps running and counting in memory'):
            self.assert_counts(self.kid1, 3)
            self.assertTrue(d.alive())
        with self.subTest('the failure is logged, once'):
            r = self.agent(self.parent).child(self.kid1.uid, 'GrantTime', '(x)', [5])
            self.assertTrue(r.ok, r)
            self.assert_counts(self.kid1, 1)
            lines = [ln for ln in d.log_text().splitlines()
                     if 'read-only' in ln.lower() and 'state.json' in ln
                     and 'DEBUG' not in ln]
            self.assertGreaterEqual(len(lines), 1, 'a message about the read-only disk')
            self.assertLessEqual(len(lines), 1, lines)
        with self.subTest('saves again once the disk is writable'):
            subprocess.run(['mount', '-o', 'remount,rw', d.state_dir], check=True)
            used = self.prop(self.kid1, 'UsedToday')
            # A state change saves at once (a failing save also retries).
            r = self.agent(self.parent).child(self.kid1.uid, 'GrantTime', '(x)', [5])
            self.assertTrue(r.ok, r)
            assert_eventually(lambda: os.path.exists(os.path.join(d.state_dir, 'state.json')),
                              35, 'state.json written after remount')
        with self.subTest('the copy of the configuration is saved too once writable'):
            # Its first save failed at start; without it, a later broken
            # configuration at start would leave nothing to enforce.
            assert_eventually(lambda: os.path.exists(os.path.join(d.state_dir,
                                                                  'last-good-config.json')),
                              3, 'last-good-config.json written along with state.json')
        self.stop_ok(d)
        with self.subTest('restarted with a broken configuration: the good one, and the usage'):
            d.write_config(self.config('60s') + 'bogus = 1\n')
            d.start()
            self.assertEqual(self.prop(self.kid1, 'LimitToday'), 3600)
            self.assertGreaterEqual(self.prop(self.kid1, 'UsedToday'), used)
            self.stop_ok(d)

    def test_reload_broken_config_keeps_old(self):
        parent = self.agent(self.parent)
        d = self.daemon(self.config('60s'))
        broken = self.config('2m') + '\n[child %s]\ndaily_limt = 1h\n' % self.kid2.name
        bad_line = broken.splitlines().index('daily_limt = 1h') + 1
        d.write_config(broken)
        where = f'{d.config_file}:{bad_line}'
        with self.subTest('Reload returns InvalidConfig with FILE:LINE'):
            r = parent.manager('Reload')
            self.assertFalse(r.ok)
            self.assertEqual(r.error, harness.INVALID_CONFIG, r)
            self.assertIn(where, r.message)
        with self.subTest('ConfigErrors lists the error'):
            errors = self.env.manager_prop('ConfigErrors')
            self.assertTrue(any(where in e for e in errors), errors)
        with self.subTest('the old limits stay in force'):
            self.assertEqual(self.prop(self.kid1, 'LimitToday'), 60)
        with self.subTest('SIGHUP with the broken file: still running, old limits'):
            self.sighup(d)
            self.assertTrue(d.alive())
            self.assertEqual(self.prop(self.kid1, 'LimitToday'), 60)
        with self.subTest('an error in a drop-in names the drop-in'):
            d.write_config(self.config('60s'))
            dropin = os.path.join(d.config_dir, 'parentd.conf.d', '50-bad.conf')
            d.write_config('[daemon]\ngrace = 5 minutes\n', dropin)
            r = parent.manager('Reload')
            self.assertEqual(r.error, harness.INVALID_CONFIG, r)
            self.assertIn(f'{dropin}:2', r.message)
            os.unlink(dropin)
        with self.subTest('SIGHUP with a fixed file applies it'):
            d.write_config(self.config('2m'))
            self.sighup(d)
            self.wait_prop(self.kid1, 'LimitToday', 120, 3)
            self.assertEqual(self.env.manager_prop('ConfigErrors'), [])
        with self.subTest('Reload over D-Bus applies a good file'):
            d.write_config(self.config('3m'))
            r = parent.manager('Reload')
            self.assertTrue(r.ok, r)
            self.wait_prop(self.kid1, 'LimitToday', 180, 3)
        self.stop_ok(d)

    def test_start_with_broken_config(self):
        d = self.daemon(self.config('60s'))
        self.stop_ok(d)
        d.write_config(self.config('60s') + 'bogus = 1\n')
        with self.subTest('with a last good configuration: runs it, lists the errors'):
            d.start()
            self.assertEqual(self.prop(self.kid1, 'LimitToday'), 60)
            errors = self.env.manager_prop('ConfigErrors')
            self.assertTrue(any(d.config_file + ':' in e for e in errors), errors)
            d.read_notify(0.2)
            self.assertTrue(any('config' in line.lower() for line in d.status),
                            f'STATUS= says the configuration was rejected: {d.status}')
            self.stop_ok(d)
        with self.subTest('without one: exits non-zero, naming FILE:LINE'):
            fresh = self.daemon(self.config('60s') + 'bogus = 1\n', start=False)
            fresh.start(wait_ready=False)
            rc = fresh.wait_exit(10)
            self.assertIsNotNone(rc, 'still running')
            self.assertNotEqual(rc, 0)
            self.assertIn(fresh.config_file + ':', fresh.log_text())

    def test_day_rollover(self):
        harness.require_faketime(self)
        kid1 = self.agent(self.kid1)
        conf = harness.make_config({'grace': '1s', 'warnings': '2s', 'day_starts_at': '04:00'},
                                   {self.kid1: {'daily_limit': '1h'},
                                    self.kid2: {'daily_limit': '5s'}})
        self.logind.add_session('c1', self.kid1, announce=False)
        self.logind.add_session('c2', self.kid2, announce=False)
        d = self.daemon(conf, extra_env=harness.faketime_env('@2026-06-01 03:59:44'))
        day_start = calendar.timegm((2026, 6, 1, 4, 0, 0))
        kid1.subscribe()
        with self.subTest('NextChange is the day start'):
            self.assertEqual(self.prop(self.kid1, 'NextChange'), day_start)
        r = kid1.child(self.kid1.uid, 'RequestTime', '(us)', [600, 'before midnight'])
        self.assertTrue(r.ok, r)
        request_id = r.value[0]
        with self.subTest('kid2 exhausted and locked before the day starts'):
            assert_eventually(lambda: self.logind.lock_calls('c2') > 0, 10, 'Lock of c2')
            self.logind.set_props('c2', {'LockedHint': True})
        used = self.wait_prop(self.kid1, 'UsedToday', lambda v: v >= 8, 12)
        with self.subTest('UsedToday resets after day_starts_at'):
            self.wait_prop(self.kid1, 'UsedToday', lambda v: v < used, 15)
            self.assertLessEqual(self.prop(self.kid1, 'UsedToday'), 3)
        with self.subTest('GetUsage keeps the previous day'):
            r = kid1.child(self.kid1.uid, 'GetUsage', '(u)', [2])
            self.assertTrue(r.ok, r)
            days = r.value[0]
            self.assertEqual([day[0] for day in days][:2], ['2026-06-01', '2026-05-31'], days)
            self.assertGreaterEqual(days[1][1], 8)
        with self.subTest('a pending request expires with the day'):
            r = kid1.manager('ListRequests')
            self.assertEqual([(q[0], q[4]) for q in r.value[0]], [(request_id, 'expired')])
            answered = assert_eventually(
                lambda: [s['args'] for s in kid1.signals('RequestAnswered')], 3,
                'RequestAnswered for the expired request')
            self.assertEqual(answered, [[request_id, 'expired', 0]])
        with self.subTest('the exhausted child has a new allowance'):
            self.wait_prop(self.kid2, 'State', 'ok', 3)
            self.assertEqual(self.prop(self.kid2, 'RemainingToday'), 5)
            n = self.logind.lock_calls('c2')
            self.logind.set_props('c2', {'LockedHint': False})
            self.assert_counts(self.kid2, 1)
            self.assertEqual(self.logind.lock_calls('c2'), n)
        self.stop_ok(d)


if __name__ == '__main__':
    sys.exit(harness.main('sta', 62400))
