#!/usr/bin/python3
# The time-request flow: RequestTime by the child, the rate limit and the
# pending limit, the reason cleaned, ListRequests per caller, ApproveRequest
# and DenyRequest with the RequestAnswered signal, unknown ids.

import sys
import time
import unicodedata

sys.dont_write_bytecode = True  # nothing written next to the sources
import harness  # noqa: E402
from harness import assert_eventually, child_path

# Control characters to drop; 190 characters without them.
REASON = 'Please\x01 more\ttime\x1b[2J for \nhomework ' + '\u00e9' * 160
LONG_REASON = 'x' * 150 + '\u00e9\x07' * 150


def clean(text):
    return ''.join(c for c in text if unicodedata.category(c) != 'Cc')[:200]


class RequestsTest(harness.TestCase):
    def config(self):
        return harness.make_config({'grace': '2s'},
                                   {self.kid1: {'daily_limit': '20m'},
                                    self.kid2: {'daily_limit': '20m'}})

    def requests_of(self, agent):
        r = agent.manager('ListRequests')
        self.assertTrue(r.ok, r)
        return {q[0]: q for q in r.value[0]}

    def answered(self, agent, user):
        return [s['args'] for s in agent.signals('RequestAnswered')
                if s['path'] == child_path(user.uid)]

    def test_request_flow(self):
        kid1, kid2, parent = (self.agent(u) for u in (self.kid1, self.kid2, self.parent))
        stranger = self.agent(self.stranger)
        d = self.daemon(self.config())
        for a in (kid1, kid2, stranger):
            a.subscribe()
        # kid1 on a second connection that unsubscribes, and on a third that
        # leaves the bus while subscribed.
        kid1_unsubscribed = self.agent(self.kid1, fresh=True)
        kid1_unsubscribed.subscribe()
        self.assertTrue(kid1_unsubscribed.manager('Unsubscribe').ok)
        kid1_gone = self.agent(self.kid1, fresh=True)
        kid1_gone.subscribe()
        kid1_gone.close()

        r = kid1.child(self.kid1.uid, 'RequestTime', '(us)', [600, REASON])
        self.assertTrue(r.ok, r)
        id1 = r.value[0]
        with self.subTest('RequestsChanged is broadcast, without data'):
            changed = assert_eventually(lambda: stranger.signals('RequestsChanged'), 3,
                                        'RequestsChanged')
            self.assertEqual(changed[0]['args'], [])
        with self.subTest('a second request within a minute: TooManyRequests'):
            r = kid1.child(self.kid1.uid, 'RequestTime', '(us)', [300, 'again'])
            self.assertEqual(r.error, harness.TOO_MANY_REQUESTS, r)
        with self.subTest('the child sees its request, pending, with a clean reason'):
            mine = self.requests_of(kid1)
            self.assertEqual(list(mine), [id1])
            _id, uid, kind, created, state, details = mine[id1]
            self.assertEqual((uid, kind, state), (self.kid1.uid, 'time', 'pending'))
            self.assertAlmostEqual(created, time.time(), delta=5)
            self.assertEqual(details.get('seconds'), 600)
            self.assertEqual(details.get('reason'), clean(REASON))
        r = kid2.child(self.kid2.uid, 'RequestTime', '(us)', [120, 'kid2 asks'])
        self.assertTrue(r.ok, r)
        id2 = r.value[0]
        with self.subTest('each child sees only its own requests'):
            self.assertEqual(list(self.requests_of(kid1)), [id1])
            self.assertEqual(list(self.requests_of(kid2)), [id2])
        with self.subTest('a parent with view sees all'):
            self.assertEqual(sorted(self.requests_of(parent)), sorted([id1, id2]))
        with self.subTest('a user who is neither sees none'):
            r = stranger.manager('ListRequests')
            self.assertTrue(r.error == harness.ACCESS_DENIED or (r.ok and r.value[0] == []), r)
        with self.subTest('a child cannot answer its own request'):
            r = kid1.manager('ApproveRequest', '(tu)', [id1, 0])
            self.assertEqual(r.error, harness.ACCESS_DENIED, r)

        before = self.prop(self.kid1, 'RemainingToday')
        with self.subTest('ApproveRequest grants what was asked'):
            r = parent.manager('ApproveRequest', '(tu)', [id1, 0])
            self.assertTrue(r.ok, r)
            self.wait_prop(self.kid1, 'BonusToday', 600, 2)
            self.assertGreaterEqual(self.prop(self.kid1, 'RemainingToday'), before + 598)
            self.assertEqual(self.requests_of(parent)[id1][4], 'approved')
        with self.subTest('RequestAnswered approved reaches the child, unicast'):
            got = assert_eventually(lambda: self.answered(kid1, self.kid1), 3, 'RequestAnswered')
            self.assertEqual(got, [[id1, 'approved', 600]])
            # The stranger listens to every signal it may receive.
            self.assertEqual(stranger.signals('RequestAnswered'), [], 'broadcast')
        with self.subTest('after Unsubscribe, no signals'):
            self.assertEqual(self.answered(kid1_unsubscribed, self.kid1), [])
            self.assertTrue(d.alive())
            self.assertEqual(self.answered(kid2, self.kid1), [])
        with self.subTest('an answered request cannot be answered again'):
            r = parent.manager('ApproveRequest', '(tu)', [id1, 0])
            self.assertFalse(r.ok, r)
            r = parent.manager('DenyRequest', '(t)', [id1])
            self.assertFalse(r.ok, r)
            self.assertEqual(self.prop(self.kid1, 'BonusToday'), 600)
        with self.subTest('DenyRequest'):
            remaining2 = self.prop(self.kid2, 'RemainingToday')
            r = parent.manager('DenyRequest', '(t)', [id2])
            self.assertTrue(r.ok, r)
            self.assertEqual(self.requests_of(kid2)[id2][4], 'denied')
            self.assertEqual(self.prop(self.kid2, 'BonusToday'), 0)
            self.assertEqual(self.prop(self.kid2, 'RemainingToday'), remaining2)
        with self.subTest('RequestAnswered denied reaches that child only'):
            got = assert_eventually(lambda: self.answered(kid2, self.kid2), 3, 'RequestAnswered')
            self.assertEqual(got, [[id2, 'denied', 0]])
            self.assertEqual(self.answered(kid1, self.kid2), [])
            self.assertEqual([s for s in stranger.signals('RequestAnswered')], [])
        with self.subTest('unknown id: NoSuchRequest'):
            for method, sig, args in (('ApproveRequest', '(tu)', [987654, 0]),
                                      ('DenyRequest', '(t)', [987654])):
                r = parent.manager(method, sig, args)
                self.assertEqual(r.error, harness.NO_SUCH_REQUEST, (method, r))
        with self.subTest('requests survive a restart'):
            self.stop_ok(d)
            d.start()
            states = {i: q[4] for i, q in self.requests_of(parent).items()}
            self.assertEqual(states, {id1: 'approved', id2: 'denied'})
            r = kid1.child(self.kid1.uid, 'RequestTime', '(us)', [60, 'after restart'])
            self.assertEqual(r.error, harness.TOO_MANY_REQUESTS,
                             f'the rate limit must survive a restart: {r}')
        self.stop_ok(d)

    def test_reason_and_seconds_checked(self):
        kid1 = self.agent(self.kid1)
        d = self.daemon(self.config())
        with self.subTest('RequestTime(0): InvalidArgs'):
            r = kid1.child(self.kid1.uid, 'RequestTime', '(us)', [0, 'nothing'])
            self.assertEqual(r.error, harness.INVALID_ARGS, r)
        with self.subTest('a reason over 200 characters: trimmed, or InvalidArgs'):
            r = kid1.child(self.kid1.uid, 'RequestTime', '(us)', [60, LONG_REASON])
            if r.ok:
                details = self.requests_of(kid1)[r.value[0]][5]
                self.assertEqual(details.get('reason'), clean(LONG_REASON))
            else:
                print(f'# the daemon rejects an over-long reason: {r.message}', flush=True)
                self.assertEqual(r.error, harness.INVALID_ARGS, r)
        with self.subTest('a rejected request does not count against the rate limit'):
            if r.ok:
                self.skipTest('the long reason was accepted')
            r = kid1.child(self.kid1.uid, 'RequestTime', '(us)', [60, '\x07\x08\x1b\x7f'])
            self.assertTrue(r.ok, r)
            self.assertEqual(self.requests_of(kid1)[r.value[0]][5].get('reason'), '')
        self.assertTrue(d.alive())
        self.stop_ok(d)

    def test_pending_limit_and_rate_accelerated(self):
        '''Under libfaketime at 20x, so that minutes pass in seconds.'''
        harness.require_faketime(self)
        kid1, parent = self.agent(self.kid1), self.agent(self.parent)
        self.daemon(self.config(), extra_env=harness.faketime_env('+0 x20'))

        def request(text):
            return kid1.child(self.kid1.uid, 'RequestTime', '(us)', [300, text])

        ids = []
        for n in range(3):
            with self.subTest(f'request {n + 1} accepted once a minute has passed'):
                r = assert_eventually(lambda n=n: (lambda r: r if r.ok else None)(request(f'r{n}')),
                                      6, f'request {n + 1} accepted', interval=0.3)
                ids.append(r.value[0])
                r = request('too soon')
                self.assertEqual(r.error, harness.TOO_MANY_REQUESTS, r)
        with self.subTest('a fourth while 3 are pending: TooManyRequests, even minutes later'):
            deadline = harness.Deadline(6.5)  # over 2 fake minutes
            while not deadline.passed():
                r = request('fourth')
                self.assertEqual(r.error, harness.TOO_MANY_REQUESTS, r)
                time.sleep(0.5)
        with self.subTest('ApproveRequest with seconds grants that much'):
            r = parent.manager('ApproveRequest', '(tu)', [ids[0], 90])
            self.assertTrue(r.ok, r)
            self.wait_prop(self.kid1, 'BonusToday', 90, 2)
        with self.subTest('once one is answered, a new request is accepted'):
            r = request('fourth')
            self.assertTrue(r.ok, r)


if __name__ == '__main__':
    sys.exit(harness.main('req', 62600))
