#!/usr/bin/python3
# The harness itself: bus, mocks, users, agents and parentd --check-config.
# If these fail, the other integration tests say nothing about parentd.

import subprocess
import sys

sys.dont_write_bytecode = True  # nothing written next to the sources
import harness  # noqa: E402
from harness import GLib, LOGIND, LOGIND_PATH, MANAGE, VIEW


class HarnessTest(harness.TestCase):
    def test_users_resolve_and_agents_run_as_them(self):
        for user in self.users.all:
            a = self.agent(user)
            r = a.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetConnectionUnixUser',
                       '(s)', [a.unique_name], dest='org.freedesktop.DBus')
            self.assertTrue(r.ok, r)
            self.assertEqual(r.value[0], user.uid)

    def test_logind_mock_sessions_and_calls(self):
        path = self.logind.add_session('h1', self.kid1)
        sessions = self.env.bus.call(LOGIND, LOGIND_PATH, 'org.freedesktop.login1.Manager',
                                     'ListSessions')[0]
        self.assertIn(('h1', self.kid1.uid, self.kid1.name, 'seat0', path), sessions)
        self.logind.set_props('h1', {'IdleHint': True})
        props = self.env.bus.call(LOGIND, path, 'org.freedesktop.DBus.Properties', 'GetAll',
                                  GLib.Variant('(s)', ('org.freedesktop.login1.Session',)))[0]
        self.assertTrue(props['IdleHint'])
        self.assertEqual(props['Type'], 'x11')
        self.assertEqual(self.logind.lock_calls('h1'), 0)
        a = self.agent(self.kid1)
        a.call(path, 'org.freedesktop.login1.Session', 'Lock', dest=LOGIND)
        self.assertEqual(self.logind.lock_calls('h1'), 1)
        self.logind.remove_session('h1')

    def test_polkit_mock_decides_per_uid(self):
        subject = ('system-bus-name', {'name': None})
        for user, action, expected in ((self.parent, MANAGE, True), (self.parent, VIEW, True),
                                       (self.kid1, VIEW, False), (self.stranger, MANAGE, False)):
            a = self.agent(user)
            subject = ('system-bus-name', {'name': GLib.Variant('s', a.unique_name)})
            # Asked by root, about the agent's connection, as parentd would.
            r = self.env.bus.call('org.freedesktop.PolicyKit1',
                                  '/org/freedesktop/PolicyKit1/Authority',
                                  'org.freedesktop.PolicyKit1.Authority', 'CheckAuthorization',
                                  GLib.Variant('((sa{sv})sa{ss}us)',
                                               (subject, action, {}, 0, '')))
            self.assertEqual(r[0][0], expected, (user, action))

    def test_check_config_smoke(self):
        conf = harness.make_config({'grace': '2s', 'warnings': '10s 5s'},
                                   {self.kid1: {'daily_limit': '20s'},
                                    self.kid2: {'daily_limit': '1h'}})
        d = harness.Daemon(self.env, conf)
        out = subprocess.run(d.command() + ['--check-config'], capture_output=True, text=True,
                             timeout=30, check=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('configuration OK', out.stdout)

    def test_check_config_rejects_unknown_user(self):
        conf = '[child nosuchuser-pdtest]\ndaily_limit = 1h\n'
        d = harness.Daemon(self.env, conf)
        out = subprocess.run(d.command() + ['--check-config'], capture_output=True, text=True,
                             timeout=30, check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(d.config_file + ':1', out.stderr)


if __name__ == '__main__':
    sys.exit(harness.main('hrn', 63200))
