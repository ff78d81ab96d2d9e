#!/usr/bin/python3
"""A DatasetQuant device written from docs/protocol.md alone: MQTT 5 client around engine.Engine."""
import argparse
import json
import queue
import signal
import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import wire
from engine import Engine
from fetch import MAX_QUEUED


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--broker", required=True, help="mqtt://HOST:PORT")
    p.add_argument("--fleet", required=True)
    p.add_argument("--device-id", required=True)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--coordinator-key", required=True, help="the coordinator's SubjectPublicKeyInfo PEM")
    p.add_argument("--flash-quota", type=int, help="FlashQuotaBytes: bytes this device may use at most")
    a = p.parse_args(argv)
    if not wire.valid_name(a.fleet) or not wire.valid_name(a.device_id):
        p.error("fleet and device id must match [A-Za-z0-9._-]{1,64} and not start with '.'")
    if not a.broker.startswith("mqtt://"):
        p.error("only mqtt://HOST:PORT is supported")
    return a


def main(argv=None):
    a = parse_args(argv)
    host, _, port = a.broker[len("mqtt://"):].rstrip("/").partition(":")
    with open(a.coordinator_key, "rb") as f:
        key = wire.load_public_key(f.read())
    prefix = f"dq/v1/{a.fleet}/"
    inbox = queue.Queue()
    client = mqtt.Client(client_id=f"dq-{a.fleet}-{a.device_id}", protocol=mqtt.MQTTv5)

    def publish(topic, doc, retain):
        client.publish(prefix + topic, json.dumps(doc, separators=(",", ":")), qos=1, retain=retain)

    engine = Engine(a.data_dir, a.fleet, a.device_id, key, a.flash_quota, publish, log)
    will = {"schema": 1, "device": a.device_id, "status": "offline", "heldBytes": 0}
    client.will_set(f"{prefix}devices/{a.device_id}/state", json.dumps(will), qos=1, retain=True)

    def on_connect(c, userdata, flags, rc, properties=None):
        if rc != 0:
            log(f"connect refused: {rc}")
            return
        dev = f"{prefix}devices/{a.device_id}/"
        c.subscribe([(dev + "budget/desired", 1), (prefix + "datasets/+/manifest", 1),
                     (prefix + "datasets/+/chunks", 1), (dev + "chunks", 1)])
        inbox.put(("connected", None))

    def on_message(c, userdata, msg):
        inbox.put((msg.topic, bytes(msg.payload)))

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    client.on_connect = on_connect
    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    # The broker holds back what the loop has not yet taken (protocol.md §8, backpressure).
    props.ReceiveMaximum = 2 * MAX_QUEUED
    client.connect(host, int(port or 1883), keepalive=30, clean_start=True, properties=props)
    client.loop_start()
    log(f"device {a.device_id} in fleet {a.fleet}, broker {a.broker}, data {a.data_dir}")
    try:
        while True:
            try:
                topic, payload = inbox.get(timeout=0.2)
            except queue.Empty:
                topic = None
            if topic == "connected":
                log(f"connected as dq-{a.fleet}-{a.device_id}")
                engine.connected()
            elif topic is not None:
                try:
                    engine.on_message(topic, payload, inbox.qsize())
                except Exception as e:  # one bad message must not stop the device
                    log(f"{topic}: {type(e).__name__}: {e}")
            engine.tick()
    except KeyboardInterrupt:
        pass
    finally:
        client.publish(f"{prefix}devices/{a.device_id}/state", json.dumps(will), qos=1, retain=True).wait_for_publish(2)
        client.loop_stop()
        client.disconnect()


if __name__ == "__main__":
    main()
