#!/usr/bin/python3
# The shipped bus policy, data/org.parentd1.conf, installed in a private bus
# whose default policy is Debian's system.conf (deny own, deny method calls,
# holes punched per service): only root owns org.parentd1, and everyone can
# call it and receive its signals.

import os
import shutil
import sys

sys.dont_write_bytecode = True  # nothing written next to the sources
import harness  # noqa: E402
from harness import (ACCESS_DENIED, BUS_NAME, MANAGER_IFACE, MANAGER_PATH, MANAGE, VIEW,
                     assert_eventually, child_path)

SHIPPED = os.path.join(harness.TOP_SRCDIR, 'data', 'org.parentd1.conf')

# Debian 12's /usr/share/dbus-1/system.conf, without the parts that need a
# real system (user, fork, pidfile, service helper, syslog), and with
# includedir pointing at this test's system.d.
DEBIAN_SYSTEM_CONF = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus" />
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Containers1"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <includedir>{dir}/system.d</includedir>
</busconfig>
'''

# What logind's and polkit's own packages install, so that the mocks can
# serve on this bus (root owns; everyone may call, the test drives the Mock
# interface as root).
MOCKS_CONF = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root">
    <allow own="org.freedesktop.login1"/>
    <allow own="org.freedesktop.PolicyKit1"/>
  </policy>
  <policy context="default">
    <allow send_destination="org.freedesktop.login1"/>
    <allow send_destination="org.freedesktop.PolicyKit1"/>
  </policy>
</busconfig>
'''


def bus_refused(result):
    '''An error from the bus daemon itself, not from parentd.'''
    return (not result.ok and result.error == ACCESS_DENIED
            and 'Rejected send message' in (result.message or ''))


class BusPolicyTest(harness.TestCase):
    pbus = None

    def setUp(self):
        super().setUp()
        if not os.path.exists(SHIPPED):
            self.fail(f'{SHIPPED} does not exist (the shipped bus policy)')
        if BusPolicyTest.pbus is None:
            directory = os.path.join(self.env.tmp, 'policy-bus')
            os.makedirs(os.path.join(directory, 'system.d'))
            shutil.copy(SHIPPED, os.path.join(directory, 'system.d', 'org.parentd1.conf'))
            with open(os.path.join(directory, 'system.d', 'test-mocks.conf'), 'w',
                      encoding='utf-8') as f:
                f.write(MOCKS_CONF)
            pbus = harness.Bus(directory, DEBIAN_SYSTEM_CONF)
            pbus.start()
            BusPolicyTest.pbus = pbus
            self.env.at_stop(pbus.stop)
            logind = harness.Logind(pbus, os.path.join(directory, 'logind.log'))
            polkit = harness.Polkit(pbus, os.path.join(directory, 'polkitd.log'))
            logind.start()
            polkit.start()
            polkit.allow(self.parent, [MANAGE, VIEW])
            BusPolicyTest.plogind = logind
            BusPolicyTest.ppolkit = polkit
            self.env.at_stop(logind.stop)
            self.env.at_stop(polkit.stop)
        self.pbus = BusPolicyTest.pbus

    def agent_on(self, user):
        return harness.Agent(self.pbus, user,
                             os.path.join(self.env.tmp, f'pagent-{user.name}.log'))

    def test_non_root_cannot_own_the_name(self):
        for user in (self.kid1, self.stranger):
            with self.subTest(f'{user.name} cannot own org.parentd1'):
                a = self.agent_on(user)
                try:
                    r = a.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName',
                               '(su)', [BUS_NAME, 0], dest='org.freedesktop.DBus')
                finally:
                    a.close()
                self.assertEqual(r.error, ACCESS_DENIED, r)

    def test_root_owns_and_users_call(self):
        conf = harness.make_config({'grace': '2s'}, {self.kid1: {'daily_limit': '1h'},
                                                      self.kid2: {'daily_limit': '1h'}})
        d = self.daemon(conf, bus=self.pbus)
        kid1 = self.agent_on(self.kid1)
        stranger = self.agent_on(self.stranger)
        parent = self.agent_on(self.parent)
        self.addCleanup(kid1.close)
        self.addCleanup(stranger.close)
        self.addCleanup(parent.close)
        with self.subTest('root (parentd) owns org.parentd1'):
            self.assertTrue(self.pbus.has_owner(BUS_NAME))
        with self.subTest('a non-root user reads Version'):
            r = kid1.get(MANAGER_PATH, MANAGER_IFACE, 'Version')
            self.assertTrue(r.ok, r)
        with self.subTest('a child reads its own data'):
            r = kid1.child_prop(self.kid1.uid, 'UsedToday')
            self.assertTrue(r.ok, r)
            r = kid1.manager('ListChildren')
            self.assertTrue(r.ok, r)
        with self.subTest('introspection is allowed'):
            r = kid1.call(MANAGER_PATH, 'org.freedesktop.DBus.Introspectable', 'Introspect')
            self.assertTrue(r.ok, r)
        with self.subTest('a stranger\'s call reaches parentd, which decides'):
            r = stranger.child_prop(self.kid1.uid, 'UsedToday')
            self.assertFalse(bus_refused(r), r)
            self.assertEqual(r.error, ACCESS_DENIED, r)
        with self.subTest('signals reach a subscribed child (unicast and broadcast)'):
            kid1.subscribe()
            r = kid1.child(self.kid1.uid, 'RequestTime', '(us)', [60, 'policy bus'])
            self.assertTrue(r.ok, r)
            request_id = r.value[0]
            assert_eventually(lambda: kid1.signals('RequestsChanged'), 3, 'RequestsChanged')
            r = parent.manager('DenyRequest', '(t)', [request_id])
            self.assertTrue(r.ok, r)
            got = assert_eventually(
                lambda: [s['args'] for s in kid1.signals('RequestAnswered')
                         if s['path'] == child_path(self.kid1.uid)], 3, 'RequestAnswered')
            self.assertEqual(got, [[request_id, 'denied', 0]])
        with self.subTest('a non-root user cannot take the name over'):
            r = stranger.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName',
                              '(su)', [BUS_NAME, 2], dest='org.freedesktop.DBus')  # REPLACE
            self.assertEqual(r.error, ACCESS_DENIED, r)
            self.assertTrue(d.alive())
        self.stop_ok(d)


if __name__ == '__main__':
    sys.exit(harness.main('pol', 63000))
