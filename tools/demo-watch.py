#!/usr/bin/python3
# Part of tools/demo: what a child's desktop would show. It runs as the demo
# child (under setpriv), calls org.parentd1.Manager.Subscribe on its own
# connection and prints each signal parentd sends it, one line each, as it
# arrives. Usage: demo-watch.py CHILD_NAME READY_FILE T0_FILE
#   READY_FILE  created once the subscription is in place
#   T0_FILE     when it exists, holds the unix time the demo's clock starts
#               at; lines are stamped with the time since then

import signal
import sys
import time

from gi.repository import Gio, GLib

BUS_NAME = 'org.parentd1'
CHILD_IFACE = 'org.parentd1.Child'


def words(seconds):
    '''Durations the way parentctl writes them.'''
    if seconds >= 3600:
        return f'{seconds // 3600} h {seconds % 3600 // 60:02d} min'
    if seconds >= 60 and seconds % 60 == 0:
        return f'{seconds // 60} min'
    if seconds >= 60:
        return f'{seconds // 60} min {seconds % 60} s'
    return f'{seconds} s'


def what_words(what):
    if what == 'daily':
        return "today's time"
    if what == 'hours':
        return 'the allowed hours'
    if what.startswith('app:'):
        return f'the app {what[4:]}'
    return what


class Watcher:
    def __init__(self, name, ready_file, t0_file):
        self.name = name
        self.t0_file = t0_file
        self.loop = GLib.MainLoop()
        self.conn = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
        self.conn.set_exit_on_close(False)
        self.conn.connect('closed', lambda *_: self.loop.quit())
        # The signals are unicast to this connection; no match rule is
        # needed for them, and none is added for anyone else's.
        self.conn.signal_subscribe(None, CHILD_IFACE, None, None, None,
                                   Gio.DBusSignalFlags.NONE, self.on_signal, None)
        self.conn.call_sync(BUS_NAME, '/org/parentd1', 'org.parentd1.Manager', 'Subscribe',
                            None, None, Gio.DBusCallFlags.NONE, 10000, None)
        for signum in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, self.quit)
        with open(ready_file, 'w', encoding='ascii') as f:
            f.write(self.conn.get_unique_name() + '\n')

    def quit(self):
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def stamp(self):
        try:
            with open(self.t0_file, encoding='ascii') as f:
                elapsed = max(0, int(time.time() - float(f.read().strip())))
            return f'+{elapsed // 60}:{elapsed % 60:02d}'
        except (OSError, ValueError):
            return time.strftime('%H:%M:%S')

    def say(self, text):
        print(f'  {self.stamp()}  {text}', flush=True)

    def on_signal(self, _conn, sender, _path, _iface, member, params, _data):
        args = params.unpack()
        if member == 'Warning':
            what, left = args
            self.say(f'⚠ Warning to {self.name}: {words(left)} left of {what_words(what)}')
        elif member == 'LimitReached':
            what, action = args
            self.say(f'⛔ Limit reached for {self.name}: {what_words(what)} is used up; '
                     f'action: {action}')
        elif member == 'RequestAnswered':
            rid, state, seconds = args
            extra = f', {words(seconds)} more' if seconds else ''
            self.say(f'✉ Answer to {self.name}: request {rid} {state}{extra}')
        else:
            self.say(f'• Signal {member}{tuple(args)} to {self.name}')

    def run(self):
        self.loop.run()


def main():
    if len(sys.argv) != 4:
        sys.exit('usage: demo-watch.py CHILD_NAME READY_FILE T0_FILE')
    try:
        watcher = Watcher(*sys.argv[1:])
    except GLib.Error as e:
        sys.exit(f'demo-watch: {e.message}')
    watcher.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
