#!/usr/bin/python3
# Authorization: every method and property of the API x {the child itself,
# another child, a parent with polkit yes, a user with polkit no}, one TAP
# line each (contract section 3); then polkit absent and polkit hanging.

import os
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # nothing written next to the sources
import harness  # noqa: E402
from harness import (ACCESS_DENIED, CHILD_IFACE, MANAGER_IFACE, MANAGER_PATH, MANAGE,
                     PROPS_IFACE, VIEW, assert_eventually, child_path)

OK = 'ok'
DENIED = 'denied'
# Callers who are neither a child nor a viewer: an empty answer or a denial.
EMPTY_OR_DENIED = 'empty-or-denied'
FAILS = 'fails'

CALLERS = ('self', 'other-child', 'parent', 'no-polkit')
# Errors of a call whose daemon went away.
GONE = ('org.freedesktop.DBus.Error.NoReply', 'org.freedesktop.DBus.Error.ServiceUnknown',
        'org.freedesktop.DBus.Error.NameHasNoOwner')
XML = os.path.join(harness.TOP_SRCDIR, 'data', 'org.parentd1.xml')

READ = {'self': OK, 'other-child': DENIED, 'parent': OK, 'no-polkit': DENIED}
MANAGE_ONLY = {'self': DENIED, 'other-child': DENIED, 'parent': OK, 'no-polkit': DENIED}
ANYONE = dict.fromkeys(CALLERS, OK)
OWN_OR_VIEW = {'self': OK, 'other-child': OK, 'parent': OK, 'no-polkit': EMPTY_OR_DENIED}

# Every method of the API: its input signature, the arguments used, and who
# may call it (contract section 3). A method in the XML that is missing
# here fails the test, so that the matrix keeps up with the API.
METHODS = {
    ('Child', 'GetApps'): ('', [], READ),
    ('Child', 'GetUsage'): ('u', [7], READ),
    ('Child', 'GetDailyLimits'): ('u', [7], READ),
    ('Child', 'GetPurchases'): ('u', [7], READ),
    ('Child', 'RequestTime'): ('us', [60, 'matrix'],
                               {'self': OK, 'other-child': DENIED, 'parent': DENIED,
                                'no-polkit': DENIED}),
    ('Child', 'GrantTime'): ('x', [1], MANAGE_ONLY),
    ('Child', 'LockOut'): ('u', [0], MANAGE_ONLY),
    ('Manager', 'ListChildren'): ('', [], OWN_OR_VIEW),
    ('Manager', 'Reload'): ('', [], MANAGE_ONLY),
    ('Manager', 'ListRequests'): ('', [], OWN_OR_VIEW),
    # An id that does not exist: the parent gets NoSuchRequest (it passed
    # authorization), everyone else AccessDenied, so no one learns ids.
    ('Manager', 'ApproveRequest'): ('tu', [424242, 0],
                                    dict(MANAGE_ONLY, parent=harness.NO_SUCH_REQUEST)),
    ('Manager', 'DenyRequest'): ('t', [424242], dict(MANAGE_ONLY, parent=harness.NO_SUCH_REQUEST)),
    ('Manager', 'Subscribe'): ('', [], ANYONE),
    ('Manager', 'Unsubscribe'): ('', [], ANYONE),
}


def api():
    """{'Manager'|'Child': (properties, {method: input signature})} from the XML."""
    out = {}
    for iface in ET.parse(XML).getroot().iter('interface'):
        short = iface.get('name').rsplit('.', 1)[1]
        props = [p.get('name') for p in iface.iter('property')]
        methods = {m.get('name'): ''.join(a.get('type') for a in m.iter('arg')
                                          if a.get('direction', 'in') == 'in')
                   for m in iface.iter('method')}
        out[short] = (props, methods)
    return out


def matrix(kid1_uid):
    """(name, target, expected per caller); target is (path, iface, method,
    sig, args). The child object is kid1's."""
    cp = child_path(kid1_uid)
    paths = {'Child': (cp, CHILD_IFACE), 'Manager': (MANAGER_PATH, MANAGER_IFACE)}
    rows = []
    for short, (props, methods) in api().items():
        path, iface = paths[short]
        who = READ if short == 'Child' else ANYONE
        for prop in props:
            rows.append((f'{short}.{prop}', (path, PROPS_IFACE, 'Get', '(ss)', [iface, prop]), who))
        rows.append((f'{short} GetAll', (path, PROPS_IFACE, 'GetAll', '(s)', [iface]), who))
        for method, sig in methods.items():
            known = METHODS.get((short, method))
            if known is None or known[0] != sig:
                rows.append((f'{short}.{method}({sig})', None,
                             dict.fromkeys(CALLERS, 'not in the matrix: update METHODS')))
                continue
            rows.append((f'{short}.{method}', (path, iface, method, f'({sig})' if sig else None,
                                              known[1]), known[2]))
    rows.append(('Child Set State', (cp, PROPS_IFACE, 'Set', '(ssv)',
                                     [CHILD_IFACE, 'State', {'__variant__': 's', 'value': 'ok'}]),
                 dict.fromkeys(CALLERS, FAILS)))
    return rows


class AuthTest(harness.TestCase):
    def config(self):
        return harness.make_config({'grace': '2s'},
                                   {self.kid1: {'daily_limit': '1h'},
                                    self.kid2: {'daily_limit': '1h'}})

    def callers(self):
        return {'self': self.kid1, 'other-child': self.kid2, 'parent': self.parent,
                'no-polkit': self.stranger}

    def check(self, name, caller, user, result, expected):
        if expected == OK:
            self.assertTrue(result.ok, f'{name} as {caller}: {result}')
        elif expected == DENIED:
            self.assertEqual(result.error, ACCESS_DENIED, f'{name} as {caller}: {result}')
        elif expected == FAILS:
            self.assertFalse(result.ok, f'{name} as {caller}: {result}')
        elif expected == EMPTY_OR_DENIED:
            self.assertTrue(result.error == ACCESS_DENIED
                            or (result.ok and result.value[0] == []),
                            f'{name} as {caller}: {result}')
        else:
            self.assertEqual(result.error, expected, f'{name} as {caller}: {result}')
        if name == 'Manager.ListChildren' and result.ok:
            uids = sorted(c[0] for c in result.value[0])
            want = {'self': [self.kid1.uid], 'other-child': [self.kid2.uid],
                    'parent': sorted([self.kid1.uid, self.kid2.uid])}.get(caller, [])
            self.assertEqual(uids, want, f'ListChildren as {caller}')
        if name == 'Manager.ListRequests' and result.ok:
            owners = {q[1] for q in result.value[0]}
            if caller in ('self', 'other-child'):
                self.assertLessEqual(owners, {user.uid}, f'{caller} sees others\' requests')

    def test_matrix(self):
        agents = {c: self.agent(u) for c, u in self.callers().items()}
        d = self.daemon(self.config())
        self.logind.add_session('s1', self.kid1)
        for name, target, expected in matrix(self.kid1.uid):
            path, iface, method, sig, args = target or (None,) * 5
            for caller in CALLERS:
                with self.subTest(f'{name} as {caller}: {expected[caller]}'):
                    self.assertIsNotNone(path, f'{name}: {expected[caller]}')
                    a = agents[caller]
                    r = a.call(path, iface, method, sig, args)
                    if r.error in GONE and d.wait_exit(5) is not None or not d.alive():
                        # One crash must not hide the rest of the matrix.
                        rc = d.wait_exit(5)
                        d.proc = None
                        d.wait_gone()
                        d.start()
                        self.fail(f'parentd died (status {rc}) on {name} as {caller}: {r}')
                    self.check(name, caller, self.callers()[caller], r, expected[caller])
        with self.subTest('polkit was asked about the callers, never about root'):
            asked = {uid for uid, _action, _ok in self.polkit.checks()}
            self.assertTrue(asked, 'polkit never asked')
            self.assertLessEqual(asked, {u.uid for u in self.users.all}, asked)
        self.assertTrue(d.alive())
        self.stop_ok(d)

    def test_revoked_authorization(self):
        parent = self.agent(self.parent)
        d = self.daemon(self.config())
        r = parent.child(self.kid1.uid, 'GrantTime', '(x)', [1])
        self.assertTrue(r.ok, r)
        r = parent.child_prop(self.kid1.uid, 'UsedToday')
        self.assertTrue(r.ok, r)
        self.polkit.allow(self.parent, [])
        with self.subTest('a change asks polkit every time: denied at once'):
            r = parent.child(self.kid1.uid, 'GrantTime', '(x)', [1])
            self.assertEqual(r.error, ACCESS_DENIED, r)
        with self.subTest('a read is denied soon after view is revoked'):
            t0 = time.monotonic()
            assert_eventually(lambda: parent.child_prop(self.kid1.uid, 'UsedToday').error
                              == ACCESS_DENIED, 15, 'reads denied after revocation', interval=0.5)
            print(f'# view still believed for {time.monotonic() - t0:.1f} s', flush=True)
        with self.subTest('another parent connection is not let in by the first one\'s yes'):
            self.polkit.allow(self.parent, [VIEW])
            r = parent.child_prop(self.kid1.uid, 'UsedToday')
            self.assertTrue(r.ok, r)
            self.polkit.allow(self.parent, [])
            other = self.agent(self.stranger)
            r = other.child_prop(self.kid1.uid, 'UsedToday')
            self.assertEqual(r.error, ACCESS_DENIED, r)
        self.stop_ok(d)

    def test_polkit_absent(self):
        kid1, parent = self.agent(self.kid1), self.agent(self.parent)
        d = self.daemon(self.config())
        self.polkit.kill()
        with self.subTest('a manage call is denied with a clear error'):
            r = parent.child(self.kid1.uid, 'GrantTime', '(x)', [60])
            self.assertEqual(r.error, ACCESS_DENIED, r)
            self.assertIn('polkit', r.message.lower())
            self.assertLess(r.elapsed, 6)
        with self.subTest('a view read is denied'):
            r = parent.child_prop(self.kid1.uid, 'UsedToday')
            self.assertEqual(r.error, ACCESS_DENIED, r)
        with self.subTest('the child reads its own data'):
            r = kid1.child_prop(self.kid1.uid, 'UsedToday')
            self.assertTrue(r.ok, r)
        with self.subTest('nothing was granted'):
            self.assertEqual(kid1.child_prop(self.kid1.uid, 'BonusToday').value, 0)
        with self.subTest('polkit back: allowed again'):
            self.polkit.start()
            self.polkit.allow(self.parent, [MANAGE, VIEW])
            r = parent.child(self.kid1.uid, 'GrantTime', '(x)', [60])
            self.assertTrue(r.ok, r)
            self.wait_prop(self.kid1, 'BonusToday', 60, 2)
        self.stop_ok(d)

    def test_polkit_hanging(self):
        kid1, parent = self.agent(self.kid1), self.agent(self.parent)
        d = self.daemon(self.config())
        self.polkit.hang(True)
        grant = parent.call_async(child_path(self.kid1.uid), CHILD_IFACE, 'GrantTime', '(x)',
                                  [60])
        view = parent.get_async(child_path(self.kid1.uid), CHILD_IFACE, 'UsedToday')
        assert_eventually(lambda: self.polkit.hanging() >= 2, 3, 'both checks hang in polkit')
        with self.subTest('meanwhile the child reads its own data promptly'):
            r = kid1.child_prop(self.kid1.uid, 'UsedToday')
            self.assertTrue(r.ok, r)
            self.assertLess(r.elapsed, 1.0)
            r = kid1.manager('ListChildren')
            self.assertTrue(r.ok, r)
            self.assertLess(r.elapsed, 1.0)
        with self.subTest('meanwhile anyone reads Version promptly'):
            r = self.agent(self.stranger).get(MANAGER_PATH, MANAGER_IFACE, 'Version')
            self.assertTrue(r.ok, r)
            self.assertLess(r.elapsed, 1.0)
        with self.subTest('the hanging manage call is denied after the timeout'):
            r = parent.wait(grant, 40)
            self.assertEqual(r.error, ACCESS_DENIED, r)
            self.assertIn('polkit', r.message.lower())
            print(f'# denied after {r.elapsed:.1f} s', flush=True)
            self.assertLess(r.elapsed, 30)
        with self.subTest('the hanging view read is denied too'):
            r = parent.wait(view, 40)
            self.assertEqual(r.error, ACCESS_DENIED, r)
        with self.subTest('polkit answering again: allowed; its late "yes" changed nothing'):
            self.polkit.hang(False)
            # The late answers reach the daemon before the answer to this call.
            self.polkit.release()
            r = parent.child(self.kid1.uid, 'GrantTime', '(x)', [60])
            self.assertTrue(r.ok, r)
            self.assertEqual(self.prop(self.kid1, 'BonusToday'), 60)
        self.assertTrue(d.alive())
        self.stop_ok(d)


if __name__ == '__main__':
    sys.exit(harness.main('aut', 62800))
