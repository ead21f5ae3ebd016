#!/usr/bin/python3
# parentctl against the real daemon: every read command's --json checked
# against the contract's shapes, a child's view against a parent's and a
# stranger's, exit statuses and messages for bad input and for a daemon
# that is not running, and golden outputs of the tables from a pre-seeded
# state directory under an injected clock (libfaketime).
#
# Golden files are in tests/integration/golden/ and compared exactly, with
# the test users' names and uids replaced by KID1, KID2, UID1 and so on
# (each run may get another block of uids). PARENTD_IT_UPDATE_GOLDEN=1
# rewrites them from the current build: review every change by eye.

import calendar
import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # nothing written next to the sources
import harness  # noqa: E402

PARENTCTL = os.path.join(harness.TOP_BUILDDIR, 'client', 'parentctl')
GOLDEN_DIR = os.path.join(harness.TOP_SRCDIR, 'tests', 'integration', 'golden')
UPDATE_GOLDEN = os.environ.get('PARENTD_IT_UPDATE_GOLDEN') == '1'

# The injected clock of the golden tests: Monday 2026-06-01 12:00 UTC.
FAKE_NOW = '2026-06-01 12:00:00'
FAKE_NOW_UNIX = calendar.timegm((2026, 6, 1, 12, 0, 0))


# --- a small schema checker ----------------------------------------------------
#
# A schema is: int (a JSON integer, not negative: null says "none"), Signed
# (any JSON integer), str, bool (a JSON true or false is never an int here),
# Null(schema) (that or null), OneOf(...) (one of these strings), [schema]
# (an array of such), {member: schema} (an object with exactly these
# members) or MapOf(schema) (an object whose every member's value is such).

class Null:
    def __init__(self, schema):
        self.schema = schema


class OneOf:
    def __init__(self, *values):
        self.values = values


class MapOf:
    def __init__(self, schema):
        self.schema = schema


class Signed:
    pass


def schema_errors(value, schema, where='$'):
    '''Every place where value does not fit schema, as "PATH: problem".'''
    if isinstance(schema, Null):
        return [] if value is None else schema_errors(value, schema.schema, where)
    if isinstance(schema, OneOf):
        return [] if value in schema.values else [
            f'{where}: {value!r} is none of {", ".join(schema.values)}']
    if schema is Signed:
        return [] if type(value) is int else [f'{where}: {value!r} is not an integer']
    if schema in (int, str, bool):
        # type(), not isinstance(): True must not pass for an int.
        if type(value) is not schema:
            return [f'{where}: {value!r} is not {schema.__name__}']
        if schema is int and value < 0:
            return [f'{where}: {value} is negative (the contract says null for none)']
        return []
    if isinstance(schema, list):
        if type(value) is not list:
            return [f'{where}: {value!r} is not an array']
        return [e for i, v in enumerate(value)
                for e in schema_errors(v, schema[0], f'{where}[{i}]')]
    if isinstance(schema, MapOf):
        if type(value) is not dict:
            return [f'{where}: {value!r} is not an object']
        return [e for k, v in value.items()
                for e in schema_errors(v, schema.schema, f'{where}.{k}')]
    if isinstance(schema, dict):
        if type(value) is not dict:
            return [f'{where}: {value!r} is not an object']
        errors = [f'{where}: no member "{k}"' for k in schema if k not in value]
        errors += [f'{where}: unexpected member "{k}"' for k in value if k not in schema]
        return errors + [e for k, s in schema.items() if k in value
                         for e in schema_errors(value[k], s, f'{where}.{k}')]
    raise TypeError(f'bad schema {schema!r}')


APP = {'name': str, 'used_today': int, 'limit': Null(int),
       'state': OneOf('ok', 'exhausted', 'blocked', 'always-allowed')}
# The contract's section 4, member for member.
SCHEMAS = {
    'status': {'children': [{
        'name': str, 'uid': int,
        'state': OneOf('ok', 'warning', 'grace', 'exhausted', 'outside-hours', 'locked-out',
                       'unlimited'),
        'counting': bool, 'used_today': int, 'limit_today': Null(int),
        'remaining_today': Null(int), 'bonus_today': Signed, 'next_change': Null(int),
        'apps': [APP]}]},
    'list': {'children': [{'name': str, 'uid': int}]},
    'apps': {'child': str, 'apps': [APP]},
    'usage': {'child': str, 'days': [{'date': str, 'total': int, 'limit': Null(int),
                                      'apps': MapOf(int)}]},
    'requests': {'requests': [{
        'id': int, 'child': Null(str), 'uid': int, 'kind': OneOf('time', 'purchase'),
        'state': OneOf('pending', 'approved', 'denied', 'expired'), 'created': int,
        'seconds': Null(int), 'reason': Null(str), 'rule': Null(str), 'app': Null(str),
        'target': Null(str)}]},
    'purchases': {'purchases': [{
        'time': int, 'child': str, 'rule': str, 'app': Null(str), 'target': str,
        'outcome': OneOf('held', 'approved', 'denied', 'expired', 'blocked', 'logged')}]},
}


# --- the pre-seeded state ---------------------------------------------------------

DAY = 86400
DAY_STARTS_AT = 4 * 3600   # the config's day_starts_at = 04:00, in UTC (TZ=UTC)


def policy_date(now, days_ago=0):
    return time.strftime('%Y-%m-%d', time.gmtime(now - DAY_STARTS_AT - days_ago * DAY))


def seed(kid1, kid2, now):
    '''state.json (daemon/state-json.c's format) with usage, app time,
    purchases and requests, relative to now: at FAKE_NOW_UNIX, the dates
    and times the goldens show.'''
    def day(days_ago, used, bonus, apps, limit=None):
        d = {'date': policy_date(now, days_ago), 'used': used, 'bonus': bonus, 'apps': apps}
        if limit is not None:
            d['limit'] = limit   # as the daemon records it; older files have none
        return d

    def purchase(ago, rule, app, target, outcome, request=0):
        return {'time': now - ago, 'rule': rule, 'app': app, 'target': target,
                'outcome': outcome, 'request': request, 'count': 1}

    def request(rid, user, kind, state, ago, seconds=0, reason=None, details=None, answered=0):
        return {'id': rid, 'uid': user.uid, 'kind': kind, 'state': state, 'created': now - ago,
                'expires': 0, 'answered': now - answered if answered else 0,
                'seconds': seconds, 'reason': reason,
                'details': {k: {'type': 's', 'value': f"'{v}'"}
                            for k, v in (details or {}).items()}}

    steam = {'rule': 'steam-checkout', 'app': 'steam',
             'target': 'https://store.steampowered.com/checkout/'}
    return {
        'version': 1, 'saved': now - 600, 'next_request_id': 5,
        'children': [
            {'uid': kid1.uid, 'name': kid1.name, 'locked_until': 0,
             'days': [day(0, 2700, 900, {'supertux': 1500, 'firefox': 600}),
                      day(1, 10800, 1800, {'supertux': 2700, 'vlc': 5400}, limit=10800),
                      day(2, 5400, 0, {'supertux': 2000}, limit=10800),
                      day(4, 1800, 0, {}, limit=5400),
                      day(20, 3600, 0, {'minecraft': 3600})],
             # Oldest first, as the daemon appends them.
             'purchases': [purchase(12 * DAY + 3 * 3600, 'steam-purchase-link', 'firefox',
                                    'steam://purchase/440', 'logged'),
                           purchase(2 * DAY + 115 * 60, 'itch-checkout', '',
                                    'https://itch.io/checkout', 'blocked'),
                           purchase(DAY + 5 * 3600 + 40 * 60, outcome='approved', request=2,
                                    **steam)]},
            {'uid': kid2.uid, 'name': kid2.name, 'locked_until': 0,
             'days': [day(0, 600, 0, {}), day(1, 4500, 0, {'luanti': 4500})],
             'purchases': [purchase(150 * 60, 'paypal', 'firefox',
                                    'https://www.paypal.com/checkoutnow', 'denied')]}],
        'requests': [
            request(1, kid1, 'time', 'approved', DAY - 7 * 3600, 1800, 'homework',
                    answered=DAY - 7 * 3600 - 300),
            request(2, kid1, 'purchase', 'approved', DAY + 5 * 3600 + 40 * 60,
                    details=steam, answered=DAY + 5 * 3600 + 35 * 60),
            request(3, kid2, 'time', 'denied', 3 * 3600, 900, '', answered=3 * 3600 - 60),
            request(4, kid1, 'time', 'pending', 15 * 60, 900, 'finish the level')]}


# --- the tests ------------------------------------------------------------------------

class CliTest(harness.TestCase):
    def config(self):
        return harness.make_config(
            {'day_starts_at': '04:00'},
            {self.kid1: {'daily_limit': '1h30m', 'daily_limit.weekend': '3h',
                         'allowed_hours': '07:00-20:30', 'app_limit.supertux': '45m',
                         'blocked_apps': 'discord', 'always_allowed': 'vlc'},
             self.kid2: {}})

    def seeded_daemon(self, now=None, faketime=False):
        '''The daemon on a state directory seeded as of now.'''
        d = self.daemon(self.config(), start=False,
                        extra_env=harness.faketime_env('@' + FAKE_NOW) if faketime else None)
        os.makedirs(d.state_dir, mode=0o700)
        with open(os.path.join(d.state_dir, 'state.json'), 'w', encoding='utf-8') as f:
            json.dump(seed(self.kid1, self.kid2, now or int(time.time())), f)
        d.start()
        log = d.log_text()
        self.assertNotIn('corrupt', log, 'the seeded state.json did not read back whole')
        return d

    def ctl(self, user, *args, faketime=False):
        '''parentctl ARGS as user (None: root), stdout a pipe, no password.'''
        env = {'PATH': '/usr/bin:/bin', 'HOME': '/', 'TZ': 'UTC', 'LC_ALL': 'C.UTF-8',
               'NO_COLOR': '1', 'DBUS_SYSTEM_BUS_ADDRESS': self.env.bus.address}
        for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'):
            if k in os.environ:
                env[k] = os.environ[k]
        if faketime:
            env.update(harness.faketime_env('@' + FAKE_NOW))
        who = {} if user is None else {'user': user.uid, 'group': user.uid, 'extra_groups': []}
        return subprocess.run([PARENTCTL, '--no-ask-password'] + list(args), env=env, cwd='/',
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60, check=False, **who)

    def ok(self, user, *args, **kw):
        r = self.ctl(user, *args, **kw)
        self.assertEqual((r.returncode, r.stderr), (0, ''),
                         f'parentctl {" ".join(args)} as {user}: {r.stdout}')
        return r.stdout

    def json_of(self, user, command, *args, **kw):
        '''parentctl COMMAND ARGS --json as user, checked against the schema.'''
        out = self.ok(user, command, *args, '--json', **kw)
        self.assertEqual(out.count('\n'), 1, f'one line when stdout is no tty: {out!r}')
        doc = json.loads(out)
        errors = schema_errors(doc, SCHEMAS[command])
        self.assertEqual(errors, [], f'parentctl {command} --json: {doc}')
        return doc

    def fails(self, user, status, *args):
        '''parentctl ARGS exits with status, a message on stderr and nothing on stdout.'''
        r = self.ctl(user, *args)
        self.assertEqual(r.returncode, status, f'parentctl {" ".join(args)} as {user}: '
                                               f'stdout {r.stdout!r} stderr {r.stderr!r}')
        self.assertEqual(r.stdout, '', f'parentctl {" ".join(args)}: nothing on stdout')
        self.assertTrue(r.stderr.startswith('parentctl: '), r.stderr)
        return r.stderr

    def daemon_message(self, user, path, iface, method, sig=None, args=()):
        '''What the daemon answers user's call, for "shown verbatim".'''
        r = self.agent(user).call(path, iface, method, sig, args)
        self.assertFalse(r.ok, f'{method} as {user} succeeded: {r}')
        return re.sub(r'^GDBus\.Error:[\w.]+: ', '', r.message)

    def has_usage(self):
        '''parentctl usage exists (it is being written as this test is).'''
        r = self.ctl(None, '--help')
        return re.search(r'^\s+usage\b', r.stdout, re.M) is not None

    # --- --json against the contract ----------------------------------------------------

    def test_json_schemas(self):
        '''Each read command's --json, as a parent, against section 4, and
        against what the daemon says over D-Bus.'''
        now = int(time.time())
        self.seeded_daemon(now)
        kid1, kid2 = self.kid1, self.kid2
        with self.subTest('status'):
            doc = self.json_of(self.parent, 'status')
            children = {c['name']: c for c in doc['children']}
            self.assertEqual(sorted(children), sorted([kid1.name, kid2.name]))
            c = children[kid1.name]
            props = self.env.child_props(kid1)
            self.assertEqual((c['uid'], c['state'], c['counting'], c['used_today'],
                              c['limit_today'], c['remaining_today'], c['bonus_today'],
                              c['next_change']),
                             (kid1.uid, props['State'], props['Counting'], props['UsedToday'],
                              props['LimitToday'], props['RemainingToday'], props['BonusToday'],
                              props['NextChange'] or None))
            self.assertIsNone(children[kid2.name]['limit_today'], 'kid2 is unlimited: null')
            self.assertIsNone(children[kid2.name]['remaining_today'])
        if policy_date(now) != policy_date(int(time.time())):
            self.skipTest('the policy day changed under the test')
        with self.subTest('status USER: that child, with the seeded day'):
            doc = self.json_of(self.parent, 'status', kid1.name)
            self.assertEqual([c['name'] for c in doc['children']], [kid1.name])
            c = doc['children'][0]
            self.assertEqual((c['used_today'], c['bonus_today']), (2700, 900), c)
        with self.subTest('list'):
            doc = self.json_of(self.parent, 'list')
            self.assertEqual(sorted((c['name'], c['uid']) for c in doc['children']),
                             sorted([(kid1.name, kid1.uid), (kid2.name, kid2.uid)]))
        with self.subTest('apps USER: named apps and apps used today'):
            doc = self.json_of(self.parent, 'apps', kid1.name)
            self.assertEqual(doc['child'], kid1.name)
            apps = {a['name']: (a['used_today'], a['limit'], a['state']) for a in doc['apps']}
            self.assertEqual(apps, {'supertux': (1500, 2700, 'ok'), 'firefox': (600, None, 'ok'),
                                    'discord': (0, None, 'blocked'),
                                    'vlc': (0, None, 'always-allowed')})
            self.assertEqual(doc['apps'], self.json_of(self.parent, 'status', kid1.name)
                             ['children'][0]['apps'], 'apps and status agree')
        with self.subTest('apps USER by uid'):
            self.assertEqual(self.json_of(self.parent, 'apps', str(kid1.uid))['child'], kid1.name)
        with self.subTest('requests: nulls where a field does not apply'):
            doc = self.json_of(self.parent, 'requests')
            got = {q['id']: q for q in doc['requests']}
            self.assertEqual(sorted(got), [1, 2, 3, 4])
            self.assertEqual(got[1], {'id': 1, 'child': kid1.name, 'uid': kid1.uid, 'kind': 'time',
                                      'state': 'approved', 'created': now - DAY + 7 * 3600,
                                      'seconds': 1800, 'reason': 'homework', 'rule': None,
                                      'app': None, 'target': None})
            self.assertEqual(got[2], {'id': 2, 'child': kid1.name, 'uid': kid1.uid,
                                      'kind': 'purchase', 'state': 'approved',
                                      'created': now - DAY - 5 * 3600 - 40 * 60, 'seconds': None,
                                      'reason': None, 'rule': 'steam-checkout', 'app': 'steam',
                                      'target': 'https://store.steampowered.com/checkout/'})
            self.assertEqual((got[3]['child'], got[3]['state'], got[3]['seconds'],
                              got[3]['reason']), (kid2.name, 'denied', 900, ''))
            self.assertEqual((got[4]['state'], got[4]['reason']), ('pending', 'finish the level'))
        with self.subTest('purchases: every child, newest records within --days'):
            doc = self.json_of(self.parent, 'purchases')
            got = sorted((p['child'], p['time'], p['rule'], p['app'], p['target'], p['outcome'])
                         for p in doc['purchases'])
            self.assertEqual(got, sorted([
                (kid1.name, now - DAY - 5 * 3600 - 40 * 60, 'steam-checkout', 'steam',
                 'https://store.steampowered.com/checkout/', 'approved'),
                (kid1.name, now - 2 * DAY - 115 * 60, 'itch-checkout', None,
                 'https://itch.io/checkout', 'blocked'),
                (kid1.name, now - 12 * DAY - 3 * 3600, 'steam-purchase-link', 'firefox',
                 'steam://purchase/440', 'logged'),
                (kid2.name, now - 150 * 60, 'paypal', 'firefox',
                 'https://www.paypal.com/checkoutnow', 'denied')]))
        with self.subTest('purchases USER --days 3'):
            doc = self.json_of(self.parent, 'purchases', kid1.name, '--days', '3')
            self.assertEqual(sorted(p['rule'] for p in doc['purchases']),
                             ['itch-checkout', 'steam-checkout'])
            self.assertEqual({p['child'] for p in doc['purchases']}, {kid1.name})
        with self.subTest('usage USER --days 7'):
            if not self.has_usage():
                self.skipTest('parentctl has no usage command yet')
            doc = self.json_of(self.parent, 'usage', kid1.name, '--days', '7')
            self.assertEqual(doc['child'], kid1.name)
            days = {d['date']: d for d in doc['days']}
            self.assertEqual(days[policy_date(now)]['total'], 2700, doc)
            self.assertEqual(days[policy_date(now)]['apps'], {'supertux': 1500, 'firefox': 600})
            self.assertEqual(days[policy_date(now, 1)]['apps'], {'supertux': 2700, 'vlc': 5400})
            self.assertEqual(days[policy_date(now, 2)]['total'], 5400)
            self.assertEqual(days[policy_date(now)]['limit'], self.prop(kid1, 'LimitToday'),
                             "today's limit")
            self.assertEqual(len(doc['days']), 7, 'a day without a record is a day of 0')
            empty = days[policy_date(now, 3)]
            self.assertEqual((empty['total'], empty['apps']), (0, {}))
            self.assertNotIn(policy_date(now, 20), days, '--days 7 leaves out 20 days ago')
            dates = [d['date'] for d in doc['days']]
            self.assertEqual(dates, sorted(dates, reverse=True), 'newest first')
            r = self.agent(self.parent).child(kid1.uid, 'GetUsage', '(u)', [7])
            self.assertTrue(r.ok, r)
            self.assertEqual({d: days[d]['total'] for d in days if days[d]['total']},
                             {d: total for d, total, _apps in r.value[0] if total},
                             'usage --json and GetUsage agree')
        with self.subTest("each day's limit, as recorded: GetDailyLimits and usage --json"):
            self.assertEqual((days[policy_date(now, 1)]['limit'], days[policy_date(now, 4)]['limit']),
                             (10800, 5400))
            self.assertIsNone(days[policy_date(now, 3)]['limit'], 'a day without a record')
            r = self.agent(self.parent).child(kid1.uid, 'GetDailyLimits', '(u)', [7])
            self.assertTrue(r.ok, r)
            self.assertEqual([tuple(x) for x in r.value[0]],
                             [(policy_date(now), self.prop(kid1, 'LimitToday')),
                              (policy_date(now, 1), 10800), (policy_date(now, 2), 10800),
                              (policy_date(now, 4), 5400)])
            r = self.agent(self.stranger).child(kid1.uid, 'GetDailyLimits', '(u)', [7])
            self.assertFalse(r.ok, 'a stranger reads no limits')
        with self.subTest('GetUsage(N) covers N calendar days, not N records'):
            # kid1 has records for 0, 1, 2, 4 and 20 days ago.
            r = self.agent(self.parent).child(kid1.uid, 'GetUsage', '(u)', [4])
            self.assertTrue(r.ok, r)
            self.assertEqual([d for d, _total, _apps in r.value[0]],
                             [policy_date(now, n) for n in (0, 1, 2)])
        with self.subTest('an empty answer is still one document'):
            self.assertEqual(self.json_of(self.parent, 'purchases', kid1.name, '--days', '1'),
                             {'purchases': []})

    # --- who sees what -------------------------------------------------------------------

    def test_views(self):
        '''A child sees itself only, in sentences; a parent sees all and may
        change things; a stranger sees nothing and is denied with the
        daemon's message.'''
        self.seeded_daemon()
        kid1, kid2, parent, stranger = self.kid1, self.kid2, self.parent, self.stranger
        with self.subTest('child: status is sentences about itself'):
            out = self.ok(kid1, 'status')
            self.assertNotIn('CHILD', out, 'a child gets no table')
            self.assertNotIn(kid2.name, out)
            self.assertTrue(out.endswith('.\n'), out)
            self.assertLessEqual(out.count('\n'), 3, out)
        with self.subTest('child: status --json, list, requests and purchases show only itself'):
            self.assertEqual([c['name'] for c in self.json_of(kid1, 'status')['children']],
                             [kid1.name])
            self.assertEqual(self.json_of(kid1, 'list'),
                             {'children': [{'name': kid1.name, 'uid': kid1.uid}]})
            self.assertEqual(self.ok(kid1, 'list'), f'{kid1.name}\n')
            self.assertEqual(sorted(q['id'] for q in self.json_of(kid1, 'requests')['requests']),
                             [1, 2, 4])
            self.assertEqual({p['child'] for p in self.json_of(kid1, 'purchases')['purchases']},
                             {kid1.name})
            self.assertEqual(self.json_of(kid1, 'apps', kid1.name)['child'], kid1.name)
        with self.subTest('child: another child is not there'):
            for args in (('status', kid2.name), ('apps', kid2.name),
                         ('purchases', kid2.name), ('grant', kid2.name, '15m')):
                err = self.fails(kid1, 1, *args)
                self.assertIn(f"'{kid2.name}'", err, args)
        bonus = self.prop(kid1, 'BonusToday')
        with self.subTest('child: grant to itself is denied with the daemon\'s message'):
            message = self.daemon_message(kid1, harness.child_path(kid1.uid), harness.CHILD_IFACE,
                                          'GrantTime', '(x)', [900])
            self.assertEqual(self.fails(kid1, 1, 'grant', kid1.name, '15m'),
                             f'parentctl: {message}\n')
            self.assertEqual(self.prop(kid1, 'BonusToday'), bonus)
        with self.subTest('child: approve is denied with the daemon\'s message'):
            message = self.daemon_message(kid1, harness.MANAGER_PATH, harness.MANAGER_IFACE,
                                          'ApproveRequest', '(tu)', [4, 0])
            self.assertEqual(self.fails(kid1, 1, 'approve', '4'), f'parentctl: {message}\n')
        with self.subTest('child: request, then the parent approves it with another amount'):
            out = self.ok(kid1, 'request', '20m', 'a', 'long', 'walk')
            rid = int(re.search(r'request (\d+)', out).group(1))
            got = {q['id']: q for q in self.json_of(parent, 'requests')['requests']}
            self.assertEqual((got[rid]['child'], got[rid]['state'], got[rid]['seconds'],
                              got[rid]['reason']), (kid1.name, 'pending', 1200, 'a long walk'))
            self.assertEqual(self.ok(parent, 'approve', str(rid), '5m'),
                             f'Approved request {rid}.\n')
            self.wait_prop(kid1, 'BonusToday', bonus + 300)
        with self.subTest('parent: deny, and an answered request is the daemon\'s message'):
            self.assertEqual(self.ok(parent, 'deny', '4'), 'Denied request 4.\n')
            message = self.daemon_message(parent, harness.MANAGER_PATH, harness.MANAGER_IFACE,
                                          'DenyRequest', '(t)', [4])
            self.assertEqual(self.fails(parent, 1, 'deny', '4'), f'parentctl: {message}\n')
        with self.subTest('parent: status is a table of every child'):
            out = self.ok(parent, 'status')
            lines = out.splitlines()
            self.assertTrue(lines[0].startswith('CHILD'), out)
            self.assertEqual(sorted(ln.split()[0] for ln in lines[1:]),
                             sorted([kid1.name, kid2.name]))
            # The same rows; without the header the columns are only as wide as the rows.
            self.assertEqual([ln.split() for ln in self.ok(parent, 'status', '--no-legend').splitlines()],
                             [ln.split() for ln in lines[1:]])
            self.assertEqual(sorted(self.ok(parent, 'list').split()),
                             sorted([kid1.name, kid2.name]))
        with self.subTest('parent: grant, take away, lock and unlock'):
            before = self.prop(kid1, 'BonusToday')
            self.assertIn(kid1.name, self.ok(parent, 'grant', kid1.name, '15m'))
            self.wait_prop(kid1, 'BonusToday', before + 900)
            self.assertIn(kid1.name, self.ok(parent, 'grant', kid1.name, '-10m'))
            self.wait_prop(kid1, 'BonusToday', before + 300)
            self.assertIn(kid1.name, self.ok(parent, 'lock', kid1.name, '1h'))
            self.wait_prop(kid1, 'State', 'locked-out')
            self.assertEqual(self.json_of(parent, 'status', kid1.name)['children'][0]['state'],
                             'locked-out')
            self.assertIn(kid1.name, self.ok(parent, 'unlock', kid1.name))
            self.wait_prop(kid1, 'State', lambda s: s != 'locked-out')
        with self.subTest('stranger: sees no child'):
            self.assertEqual(self.json_of(stranger, 'list'), {'children': []})
            self.assertEqual(self.json_of(stranger, 'status'), {'children': []})
            r = self.ctl(stranger, 'status')
            self.assertEqual(r.returncode, 0, r.stderr)
            for name in (kid1.name, kid2.name):
                self.assertNotIn(name, r.stdout + r.stderr)
        with self.subTest('stranger: requests shows none or is denied'):
            r = self.ctl(stranger, 'requests', '--json')
            if r.returncode == 0:
                self.assertEqual(json.loads(r.stdout), {'requests': []})
            else:
                message = self.daemon_message(stranger, harness.MANAGER_PATH,
                                              harness.MANAGER_IFACE, 'ListRequests')
                self.assertEqual((r.returncode, r.stderr), (1, f'parentctl: {message}\n'))
        with self.subTest('stranger: a child by name is not there'):
            for args in (('apps', kid1.name), ('grant', kid1.name, '15m'),
                         ('purchases', kid1.name)):
                self.assertIn(f"'{kid1.name}'", self.fails(stranger, 1, *args), args)
        with self.subTest('stranger: approve, deny and reload are denied with the daemon\'s '
                          'message'):
            for args, call in ((('approve', '1'), ('ApproveRequest', '(tu)', [1, 0])),
                               (('deny', '3'), ('DenyRequest', '(t)', [3])),
                               (('reload',), ('Reload', None, []))):
                message = self.daemon_message(stranger, harness.MANAGER_PATH,
                                              harness.MANAGER_IFACE, *call)
                self.assertEqual(self.fails(stranger, 1, *args), f'parentctl: {message}\n')
        with self.subTest('stranger: request is refused (not a child)'):
            self.fails(stranger, 1, 'request', '15m')

    # --- bad input --------------------------------------------------------------------------

    def test_usage_errors(self):
        '''Exit 2 and a message naming the bad word; exit 1 and a clear
        message for unknown users and requests; --help exits 0.'''
        self.seeded_daemon()
        kid = self.kid1.name
        with self.subTest('bad durations: exit 2, the value named'):
            for args, bad in ((('grant', kid, '1x'), '1x'), (('grant', kid, '25h'), '25h'),
                              (('grant', kid, '15'), '15'), (('lock', kid, '-1h'), '-1h'),
                              (('request', '1x'), '1x'), (('approve', '4', '10q'), '10q')):
                self.assertIn(f"'{bad}'", self.fails(self.parent, 2, *args), args)
            self.assertEqual(self.prop(self.kid1, 'BonusToday'), 900, 'nothing granted')
        with self.subTest('wrong number of arguments: exit 2'):
            for args in (('grant', kid), ('lock',), ('approve',), ('deny', '1', '2'),
                         ('list', kid), ('apps',), ('status', kid, kid)):
                self.fails(self.parent, 2, *args)
        with self.subTest('unknown command or option: exit 2'):
            self.assertIn("'frobnicate'", self.fails(self.parent, 2, 'frobnicate'))
            self.assertIn("'--frobnicate'", self.fails(self.parent, 2, 'status', '--frobnicate'))
            self.assertIn('--days', self.fails(self.parent, 2, 'purchases', '--days', '0'))
            self.assertIn("'abc'", self.fails(self.parent, 2, 'approve', 'abc'))
        with self.subTest('unknown user: exit 1, the name in the message'):
            for args in (('grant', 'nosuchkid', '15m'), ('apps', 'nosuchkid'),
                         ('status', 'nosuchkid'), ('lock', 'nosuchkid', '1h'),
                         ('unlock', 'nosuchkid'), ('purchases', 'nosuchkid')):
                err = self.fails(self.parent, 1, *args)
                self.assertIn("'nosuchkid'", err, args)
                self.assertEqual(err.count('\n'), 1, err)
        with self.subTest('usage of an unknown user: exit 1'):
            if not self.has_usage():
                self.skipTest('parentctl has no usage command yet')
            self.assertIn("'nosuchkid'", self.fails(self.parent, 1, 'usage', 'nosuchkid'))
        with self.subTest('unknown request id: exit 1, NoSuchRequest verbatim'):
            for args, call in ((('approve', '999999'), ('ApproveRequest', '(tu)', [999999, 0])),
                               (('deny', '999999'), ('DenyRequest', '(t)', [999999]))):
                message = self.daemon_message(self.parent, harness.MANAGER_PATH,
                                              harness.MANAGER_IFACE, *call)
                self.assertIn('999999', message)
                self.assertEqual(self.fails(self.parent, 1, *args), f'parentctl: {message}\n')
        with self.subTest('COMMAND --help: exit 0, help on stdout'):
            commands = re.findall(r'^  ([a-z][a-z-]*)\b', self.ok(None, '--help'), re.M)
            self.assertIn('grant', commands)
            for command in commands:
                for user in (None, self.kid1):
                    r = self.ctl(user, command, '--help')
                    self.assertEqual((r.returncode, r.stderr), (0, ''), command)
                    self.assertIn(command, r.stdout, command)
            self.assertEqual(self.ctl(None, '-h').returncode, 0)

    def test_daemon_not_running(self):
        '''A bus without parentd: exit 1 and one line that says how to start it.'''
        self.assertFalse(self.env.bus.has_owner(harness.BUS_NAME), 'a parentd is on the bus')
        for args in (('status',), ('list', '--json'), ('requests',), ('grant', 'kid', '15m'),
                     ('approve', '1'), ('apps', 'kid'), ('reload',)):
            for user in (None, self.kid1):
                with self.subTest(' '.join(args) + ('' if user is None else ' as a child')):
                    err = self.fails(user, 1, *args)
                    self.assertEqual(err.count('\n'), 1, err)
                    self.assertIn('not running', err)
                    self.assertIn('start', err)
        with self.subTest('check-config needs no daemon'):
            d = self.daemon(harness.make_config({}, {self.kid1: {'daily_limit': '1h'}}),
                            start=False)
            r = self.ctl(None, 'check-config', d.config_file)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    # --- golden outputs --------------------------------------------------------------------

    def canonical(self, text):
        '''The test users' names and uids as in a run with the first block.'''
        for user in sorted(self.users.all, key=lambda u: -len(u.name)):
            role = user.name.split('-')[0]
            text = re.sub(rf'\b{re.escape(user.name)}\b', f'{role}-cli', text)
            text = re.sub(rf'\b{user.uid}\b', role.upper() + '_UID', text)
        return text

    def assert_golden(self, name, text):
        path = os.path.join(GOLDEN_DIR, name + '.txt')
        text = self.canonical(text)
        if UPDATE_GOLDEN:
            os.makedirs(GOLDEN_DIR, exist_ok=True)
            with open(path, 'w', encoding='utf-8') as f:
                f.write(text)
            print(f'# wrote {path}', flush=True)
            return
        self.assertTrue(os.path.exists(path),
                        f'no {path}: run with PARENTD_IT_UPDATE_GOLDEN=1 and review it')
        with open(path, encoding='utf-8') as f:
            want = f.read()
        if self.users.kid1.name != 'kid1-cli' and text != want:
            # Another block's longer names move the columns: compare cells.
            def cells(t):
                return [re.split(r' {2,}', ln.rstrip()) for ln in t.splitlines()]
            self.assertEqual(cells(text), cells(want), f'{name} (columns not compared)')
            return
        self.assertEqual(text, want, f'{name}: differs from {path} '
                                     '(PARENTD_IT_UPDATE_GOLDEN=1 regenerates it)')

    def transcript(self, user, *args, faketime=True):
        '''"$ parentctl ARGS", stdout, stderr and a non-zero exit status.'''
        r = self.ctl(user, *args, faketime=faketime)
        out = f'$ parentctl {" ".join(args)}\n{r.stdout}'
        if r.stderr:
            out += ''.join(f'[stderr] {ln}\n' for ln in r.stderr.splitlines())
        if r.returncode:
            out += f'[exit {r.returncode}]\n'
        return out + '\n'

    def test_golden_messages(self):
        '''Error messages, which need no clock: also under ASan.'''
        self.seeded_daemon()
        kid = self.kid1.name
        text = ''.join(self.transcript(self.parent, *args, faketime=False) for args in (
            ('grant', kid, '1x'), ('grant', kid, '25h'), ('lock', kid, '-1h'), ('request', '1x'),
            ('approve', 'abc'), ('frobnicate',), ('status', '--frobnicate'),
            ('purchases', '--days', '0'), ('grant', 'nosuchkid', '15m'), ('apps', 'nosuchkid'),
            ('approve', '999999')))
        text += ''.join(self.transcript(who, *args, faketime=False) for who, args in (
            (self.kid1, ('grant', kid, '15m')), (self.kid1, ('apps', self.kid2.name)),
            (self.stranger, ('reload',)), (self.stranger, ('status',))))
        self.assert_golden('cli-messages', text)

    def test_golden_tables(self):
        '''The tables and sentences at a fixed moment (libfaketime) on the
        seeded state: nothing counts, so nothing moves.'''
        harness.require_faketime(self)
        self.seeded_daemon(FAKE_NOW_UNIX, faketime=True)
        kid = self.kid1.name
        for name, user, args in (
                ('status', self.parent, ('status',)),
                ('status-child', self.kid1, ('status',)),
                ('status-unlimited-child', self.kid2, ('status',)),
                ('list', self.parent, ('list',)),
                ('apps', self.parent, ('apps', kid)),
                ('apps-none', self.parent, ('apps', self.kid2.name)),
                ('requests', self.parent, ('requests',)),
                ('purchases', self.parent, ('purchases',)),
                ('purchases-days', self.parent, ('purchases', kid, '--days', '3')),
                ('purchases-none', self.stranger, ('purchases',))):
            with self.subTest(name):
                self.assert_golden(f'cli-{name}', self.transcript(user, *args))
        with self.subTest('locked-out'):
            # Until 13:00: the fake clock has moved on by seconds only.
            text = ''.join(self.transcript(who, *args) for who, args in (
                (self.parent, ('lock', kid, '1h')), (self.kid1, ('status',)),
                (self.parent, ('status', kid)), (self.parent, ('unlock', kid)),
                (self.parent, ('status', '--no-legend', kid))))
            self.assert_golden('cli-locked-out', text)

    def test_golden_usage(self):
        '''parentctl usage: the bar chart and per-app breakdown.'''
        harness.require_faketime(self)
        if not self.has_usage():
            self.skipTest('parentctl has no usage command yet (client/cmd-usage.c)')
        self.seeded_daemon(FAKE_NOW_UNIX, faketime=True)
        text = ''.join(self.transcript(self.parent, *args) for args in (
            ('usage', self.kid1.name, '--days', '7'), ('usage', self.kid2.name, '--days', '2'),
            ('usage', self.kid1.name, '--days', '1')))
        self.assert_golden('cli-usage', text)


if __name__ == '__main__':
    sys.exit(harness.main('cli', 63800))
