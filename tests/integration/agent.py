#!/usr/bin/python3
# A D-Bus client that runs as one test user (started under setpriv by
# harness.py). It keeps one connection to the bus, so a test can make many
# calls as that user cheaply, several at once, and see the signals that
# reach that user. Protocol: one JSON object a line on stdin, one answer a
# line on stdout, matched by "id"; answers may come out of order.
#
#   {"id":1,"op":"call","dest":...,"path":...,"iface":...,"method":...,
#    "sig":"(us)","args":[...],"timeout_ms":30000}
#   {"id":2,"op":"signals"}           every signal received so far, unicast
#                                     or broadcast (no destination: tests
#                                     tell them apart by who else got one)
#   {"id":3,"op":"unique_name"}
#
# An answer is {"id":N,"ok":true,"value":...} or
# {"id":N,"ok":false,"error":"org.freedesktop.DBus.Error.AccessDenied",
# "message":"..."}, with "elapsed" in seconds.

import json
import os
import sys
import time

from gi.repository import Gio, GLib


class Agent:
    def __init__(self, address):
        flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                 | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
        self.conn = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
        self.conn.set_exit_on_close(False)
        self.signals = []
        # Unicast signals arrive without a match rule; this one also lets
        # broadcast signals in, so a leak of a child's data to this user
        # would be seen. (No GDBusConnection filter: a Python filter runs in
        # GDBus's worker thread and can deadlock against the GIL.)
        self.conn.signal_subscribe(None, None, None, None, None,
                                   Gio.DBusSignalFlags.NONE, self.on_signal, None)
        self.buffer = b''
        self.loop = GLib.MainLoop()
        GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, 0, GLib.IOCondition.IN | GLib.IOCondition.HUP,
                              self.on_stdin, None)

    def on_signal(self, _conn, sender, path, iface, member, params, _data):
        if sender == 'org.freedesktop.DBus':
            return
        self.signals.append({'sender': sender, 'path': path, 'iface': iface, 'member': member,
                             'args': params.unpack() if params is not None else [],
                             't': time.monotonic()})

    def reply(self, obj):
        sys.stdout.write(json.dumps(obj, default=repr) + '\n')
        sys.stdout.flush()

    def on_stdin(self, fd, _cond, _data):
        chunk = os.read(fd, 65536)
        if not chunk:
            self.loop.quit()
            return False
        self.buffer += chunk
        while b'\n' in self.buffer:
            line, self.buffer = self.buffer.split(b'\n', 1)
            if line.strip():
                self.handle(json.loads(line))
        return True

    def handle(self, req):
        op = req['op']
        rid = req['id']
        if op == 'signals':
            self.reply({'id': rid, 'ok': True, 'value': list(self.signals)})
        elif op == 'clear_signals':
            self.signals.clear()
            self.reply({'id': rid, 'ok': True, 'value': None})
        elif op == 'unique_name':
            self.reply({'id': rid, 'ok': True, 'value': self.conn.get_unique_name()})
        elif op == 'call':
            self.call(req)
        else:
            self.reply({'id': rid, 'ok': False, 'error': 'agent.BadOp', 'message': op})

    @staticmethod
    def convert(value):
        '''{"__variant__": TYPE, "value": V} stands for a variant.'''
        if isinstance(value, dict) and '__variant__' in value:
            return GLib.Variant(value['__variant__'], value['value'])
        return value

    def call(self, req):
        rid = req['id']
        params = None
        if req.get('sig'):
            params = GLib.Variant(req['sig'], tuple(self.convert(a) for a in req.get('args', [])))
        start = time.monotonic()

        def done(conn, result, _data):
            elapsed = time.monotonic() - start
            try:
                value = conn.call_finish(result)
                self.reply({'id': rid, 'ok': True, 'value': value.unpack() if value else None,
                            'elapsed': elapsed})
            except GLib.Error as e:
                name = Gio.DBusError.get_remote_error(e) or ('gerror:%d' % e.code)
                message = e.message
                if Gio.DBusError.is_remote_error(e):
                    Gio.DBusError.strip_remote_error(e)
                    message = e.message
                self.reply({'id': rid, 'ok': False, 'error': name, 'message': message,
                            'elapsed': elapsed})

        self.conn.call(req['dest'], req['path'], req['iface'], req['method'], params, None,
                       Gio.DBusCallFlags.NONE, req.get('timeout_ms', 30000), None, done, None)


def main():
    address = sys.argv[1]
    agent = Agent(address)
    agent.reply({'id': 0, 'ok': True, 'value': {'uid': os.getuid(),
                                                 'name': agent.conn.get_unique_name()}})
    agent.loop.run()


if __name__ == '__main__':
    main()
