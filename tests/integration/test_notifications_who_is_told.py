"""Who is told what (the README's table), end to end: events published as their owners
publish them, messages caught at local SMS, WhatsApp and SMTP providers."""

import pytest

from services.common.phone import normalise_phone
from tests.support.api import KOMPOR_ADMIN_PHONE
from tests.support.community import (
    approve,
    decide,
    hub_with_coordinator,
    pending_member,
    schedule_training,
)
from tests.support.notifications import (
    make_hub,
    make_line,
    make_membership,
    make_order,
    make_product,
    make_training,
    with_providers,
)
from tests.support.waiting import holds, wait_until


def members_messages(sink):
    """What reached the test's members: the stack's admin may get its own welcome."""
    admin = normalise_phone(KOMPOR_ADMIN_PHONE)
    return [message for message in sink.messages if message["to"] != admin]


@pytest.fixture
def config(config, request, whatsapp_sink, smtp_sink):
    return with_providers(config, request, whatsapp_sink, smtp_sink)


def texts(messages, key="message"):
    return sorted(message[key] for message in messages)


def arrived(sink, address, count):
    return wait_until(
        lambda: len(sink.to(address)) >= count and sink.to(address),
        timeout=15,
        message=f"{count} messages to {address}",
    )


def a_hub(events, log, **overrides):
    hub = make_hub(**overrides)
    events.publish("community", "hub_created", hub)
    log.wait_known("hubs", hub["hub_id"])
    return hub


def known_members(events, log, *overrides):
    members = [events.member(**fields) for fields in overrides]
    for member in members:
        log.wait_known("contacts", member["member_id"])
    return members


def a_coordinator(events, log, sms_sink, hub):
    [koor] = known_members(events, log, {"name": "Pak Koordinator"})
    events.publish(
        "community",
        "coordinator_assigned",
        {"hub_id": hub["hub_id"], "member_id": koor["member_id"]},
    )
    [told] = arrived(sms_sink, koor["phone"], 1)
    assert told["message"].startswith(f"Pak Koordinator, Anda kini koordinator {hub['name']}.")
    return koor


def test_an_orders_whole_lifecycle_tells_each_seller_and_the_buyer_on_their_channel(
    events, log, sms_sink, whatsapp_sink, smtp_sink
):
    hub = a_hub(events, log, name="Simpul Dau", address="Jl. Raya Mulyoagung 12")
    buyer, ani, budi = known_members(
        events,
        log,
        {"name": "Siti"},
        {"name": "Ani", "preferred_channel": "whatsapp", "language": "en"},
        {"name": "Budi", "preferred_channel": "email", "email": "budi@desa.id"},
    )
    buyer_id, ani_id, budi_id = buyer["member_id"], ani["member_id"], budi["member_id"]

    def order(lines, **overrides):
        placed = make_order(hub["hub_id"], buyer_id, lines, **overrides)
        events.publish("orders", "order_placed", placed)
        return placed

    def then(event_type, placed, **extra):
        events.publish("orders", event_type, {**placed, **extra})

    pickup = order(
        [
            make_line(ani_id, "Keripik", 2, 12500),
            make_line(budi_id, "Kopi Dampit", 2, 40000),
            make_line(ani_id, "Sambal", 1, 15000),
        ]
    )
    then("order_confirmed", pickup, status="confirmed")
    then("order_status_changed", pickup, from_status="confirmed", to_status="ready_for_pickup")
    then("order_status_changed", pickup, from_status="ready_for_pickup", to_status="completed")
    then("order_paid", pickup, payment_status="paid", paid_by="koor")

    delivered = order(
        [make_line(ani_id, "Keripik", 1, 12500)],
        fulfilment={"method": "delivery", "address": "Jl. Mawar 3, Karangploso"},
        payment_method="bank_transfer",
    )
    then("order_confirmed", delivered, status="confirmed")
    then("order_status_changed", delivered, from_status="confirmed", to_status="shipped")

    cancelled = order([make_line(ani_id, "Sambal", 4, 15000)])
    then("order_confirmed", cancelled, status="confirmed")
    then("order_cancelled", cancelled, cancelled_by=buyer_id, stock_was_reserved=True)

    rejected = order([make_line(budi_id, "Kopi Dampit", 99, 40000)])
    shortage = [{"product_id": rejected["items"][0]["product_id"], "requested": 99, "available": 3}]
    then("order_rejected", rejected, reason="not enough stock", shortages=shortage)

    arrived(sms_sink, buyer["phone"], 8)
    arrived(whatsapp_sink, ani["phone"], 4)
    arrived(smtp_sink, "budi@desa.id", 3)
    log.settled(buyer_id, ani_id, budi_id)

    p, d, c, r = (o["number"] for o in (pickup, delivered, cancelled, rejected))
    assert texts(sms_sink.messages) == sorted(
        [
            f"Pesanan {p} dikonfirmasi: 2x Keripik, 2x Kopi Dampit +1 lainnya. Total Rp120.000, "
            "bayar di tempat. Kami kabari saat pesanan siap.",
            f"Pesanan {p} siap diambil di Simpul Dau, Jl. Raya Mulyoagung 12. Total Rp120.000, "
            "bayar di tempat.",
            f"Pembayaran Rp120.000 untuk pesanan {p} sudah diterima. Terima kasih!",
            f"Pesanan {d} dikonfirmasi: 1x Keripik. Total Rp12.500, transfer bank. "
            "Kami kabari saat pesanan siap.",
            f"Pesanan {d} (1x Keripik) sedang dikirim ke Jl. Mawar 3, Karangploso. "
            "Total Rp12.500, transfer bank.",
            f"Pesanan {c} dikonfirmasi: 4x Sambal. Total Rp60.000, bayar di tempat. "
            "Kami kabari saat pesanan siap.",
            f"Pesanan {c} (4x Sambal, Rp60.000) telah dibatalkan.",
            f"Maaf, pesanan {r} (99x Kopi Dampit) tidak dapat diproses karena stok tidak cukup. "
            "Tidak ada tagihan.",
        ]
    )
    assert {m["to"] for m in sms_sink.messages} == {buyer["phone"]}

    assert texts(whatsapp_sink.messages) == sorted(
        [
            f"New order {p}: 2x Keripik, 1x Sambal. Value Rp40.000, pickup at the hub, "
            "cash on delivery. Please prepare the goods.",
            f"New order {d}: 1x Keripik. Value Rp12.500, delivery, bank transfer. "
            "Please prepare the goods.",
            f"New order {c}: 4x Sambal. Value Rp60.000, pickup at the hub, cash on delivery. "
            "Please prepare the goods.",
            f"Order {c} was cancelled: 4x Sambal no longer need to be prepared.",
        ]
    )
    assert {m["to"] for m in whatsapp_sink.messages} == {ani["phone"]}
    assert {m["authorization"] for m in whatsapp_sink.messages} == {"Bearer wa-token"}

    assert sorted((m["subject"], m["body"]) for m in smtp_sink.messages) == sorted(
        [
            (
                f"Pesanan baru {p}",
                f"Pesanan baru {p}: 2x Kopi Dampit. Nilai Rp80.000, diambil di simpul, "
                "bayar di tempat. Mohon siapkan barangnya.",
            ),
            (
                f"Pesanan baru {r}",
                f"Pesanan baru {r}: 99x Kopi Dampit. Nilai Rp3.960.000, diambil di simpul, "
                "bayar di tempat. Mohon siapkan barangnya.",
            ),
            (
                f"Pesanan {r} ditolak",
                f"Pesanan {r} ditolak karena stok tidak cukup: 99x Kopi Dampit tidak perlu "
                "disiapkan.",
            ),
        ]
    )
    assert {m["to"] for m in smtp_sink.messages} == {"budi@desa.id"}

    buyer_log = log.of(buyer_id)
    assert len(buyer_log) == 8
    assert {(n["channel"], n["delivered_via"], n["language"]) for n in buyer_log} == {
        ("sms", "sms", "id")
    }
    assert {(n["delivered_via"], n["language"]) for n in log.of(ani_id)} == {("whatsapp", "en")}
    assert {(n["delivered_via"], n["language"]) for n in log.of(budi_id)} == {("email", "id")}


def test_the_sellers_asked_to_prepare_an_order_hear_when_it_is_rejected_or_cancelled(
    events, log, sms_sink
):
    hub = a_hub(events, log, name="Simpul Dau")
    buyer, ani, budi = known_members(
        events, log, {"name": "Siti"}, {"name": "Ani", "language": "en"}, {"name": "Budi"}
    )
    lines = [
        make_line(ani["member_id"], "Keripik", 2, 12500),
        make_line(budi["member_id"], "Kopi Dampit", 1, 40000),
    ]
    rejected = make_order(hub["hub_id"], buyer["member_id"], lines)
    cancelled = make_order(hub["hub_id"], buyer["member_id"], lines)
    for placed in (rejected, cancelled):
        events.publish("orders", "order_placed", placed)
    events.publish(
        "orders",
        "order_rejected",
        {**rejected, "status": "rejected", "reason": "insufficient_stock", "shortages": []},
    )
    events.publish(
        "orders",
        "order_cancelled",
        {**cancelled, "status": "cancelled", "cancelled_by": "koor", "stock_was_reserved": False},
    )

    arrived(sms_sink, ani["phone"], 4)
    arrived(sms_sink, budi["phone"], 4)
    log.settled(buyer["member_id"], ani["member_id"], budi["member_id"])

    r, c = rejected["number"], cancelled["number"]

    def not_new(phone):
        news = ("New order", "Pesanan baru")
        return {text for text in texts(sms_sink.to(phone)) if not text.startswith(news)}

    assert not_new(ani["phone"]) == {
        f"Order {c} was cancelled: 2x Keripik no longer need to be prepared.",
        f"Order {r} was rejected for lack of stock: 2x Keripik no longer need to be prepared.",
    }
    assert not_new(budi["phone"]) == {
        f"Pesanan {c} dibatalkan: 1x Kopi Dampit tidak perlu disiapkan lagi.",
        f"Pesanan {r} ditolak karena stok tidak cukup: 1x Kopi Dampit tidak perlu disiapkan.",
    }
    assert {n["template"] for n in log.of(budi["member_id"])} == {
        "order_placed_seller",
        "order_rejected_seller",
        "order_cancelled_seller",
    }
    assert [n["template"] for n in log.of(buyer["member_id"])].count("order_rejected") == 1


def test_membership_curation_tells_the_coordinator_then_the_applicant(
    events, log, sms_sink, whatsapp_sink, smtp_sink
):
    hub = a_hub(events, log, name="Simpul Singosari")
    koor = a_coordinator(events, log, sms_sink, hub)
    siti, dodi = known_members(
        events,
        log,
        {"name": "Siti", "preferred_channel": "whatsapp", "language": "en"},
        {"name": "Dodi"},
    )
    accepted = make_membership(hub["hub_id"], siti["member_id"], role="seller")
    refused = make_membership(hub["hub_id"], dodi["member_id"], role="buyer")
    events.publish("community", "membership_requested", accepted)
    events.publish("community", "membership_requested", refused)
    arrived(sms_sink, koor["phone"], 3)

    events.publish("community", "membership_approved", accepted)
    events.publish(
        "community", "membership_rejected", {**refused, "reason": "Alamat belum lengkap"}
    )
    arrived(whatsapp_sink, siti["phone"], 1)
    arrived(sms_sink, dodi["phone"], 1)
    log.settled(koor["member_id"], siti["member_id"], dodi["member_id"])

    applications = [m for m in sms_sink.to(koor["phone"]) if "mengajukan" in m["message"]]
    assert texts(applications) == [
        "Dodi mengajukan diri sebagai pembeli di Simpul Singosari. "
        "Mohon tinjau pengajuan ini di aplikasi KOMPOR DESA.",
        "Siti mengajukan diri sebagai penjual di Simpul Singosari. "
        "Mohon tinjau pengajuan ini di aplikasi KOMPOR DESA.",
    ]
    assert texts(whatsapp_sink.to(siti["phone"])) == [
        "Congratulations Siti! Your application as a seller at Simpul Singosari was approved. "
        "You are now a member."
    ]
    assert texts(sms_sink.to(dodi["phone"])) == [
        "Maaf Dodi, pengajuan Anda sebagai pembeli di Simpul Singosari belum disetujui. "
        "Alasan: Alamat belum lengkap"
    ]
    assert len(members_messages(sms_sink)) == 4 and len(whatsapp_sink.messages) == 1
    assert smtp_sink.messages == []


def test_a_removed_coordinator_hears_no_more_of_the_hub(events, log, sms_sink):
    hub = a_hub(events, log, name="Simpul Karangploso")
    stays = a_coordinator(events, log, sms_sink, hub)
    leaves = a_coordinator(events, log, sms_sink, hub)
    removed = {"hub_id": hub["hub_id"], "member_id": leaves["member_id"], "removed_by": "a1"}
    events.publish("community", "coordinator_removed", removed)
    place = f"coordinator:{hub['hub_id']}:{leaves['member_id']}"
    log.wait_known("memberships", place, status="removed")
    [siti] = known_members(events, log, {"name": "Siti"})
    application = make_membership(hub["hub_id"], siti["member_id"], role="seller")
    events.publish("community", "membership_requested", application)
    arrived(sms_sink, stays["phone"], 2)
    log.settled(stays["member_id"], leaves["member_id"])
    assert [m for m in sms_sink.to(leaves["phone"]) if "mengajukan" in m["message"]] == []


def test_product_curation_and_low_stock_tell_the_coordinator_and_the_seller(
    events, log, sms_sink, smtp_sink
):
    hub = a_hub(events, log, name="Simpul Dau")
    koor = a_coordinator(events, log, sms_sink, hub)
    [ani] = known_members(
        events,
        log,
        {"name": "Ani", "preferred_channel": "email", "email": "ani@desa.id", "language": "en"},
    )
    kopi = make_product(hub["hub_id"], ani["member_id"], name="Kopi Dampit", price=40000)
    foto = make_product(hub["hub_id"], ani["member_id"], name="Batik Tulis", price=350000)
    events.publish("catalogue", "product_submitted", {**kopi, "status": "pending_review"})
    arrived(sms_sink, koor["phone"], 2)

    events.publish("catalogue", "product_approved", kopi)
    events.publish(
        "catalogue", "product_rejected", {**foto, "status": "rejected", "reason": "Foto buram"}
    )
    low = {key: kopi[key] for key in ("product_id", "hub_id", "seller_id", "name")}
    events.publish("catalogue", "stock_low", {**low, "stock": 2, "threshold": 5})
    arrived(smtp_sink, "ani@desa.id", 3)
    log.settled(koor["member_id"], ani["member_id"])

    assert sms_sink.to(koor["phone"])[-1]["message"] == (
        "Produk baru menunggu tinjauan di Simpul Dau: Kopi Dampit (Rp40.000). "
        "Mohon setujui atau tolak di aplikasi."
    )
    assert sorted((m["subject"], m["body"]) for m in smtp_sink.messages) == [
        (
            "Product approved",
            "Your product Kopi Dampit was approved and is now in the Simpul Dau showroom "
            "at Rp40.000.",
        ),
        (
            "Product not approved",
            "Your product Batik Tulis was not approved. Reason: Foto buram. "
            "Please fix it and submit again.",
        ),
        ("Stock running low", "Only 2 left of Kopi Dampit. Restock so buyers can keep ordering."),
    ]
    assert len(members_messages(sms_sink)) == 2  # the coordinator's only


def test_a_training_is_announced_to_the_hubs_approved_members_each_once(events, log, sms_sink):
    hub = a_hub(events, log, name="Simpul Dau")
    other_hub = a_hub(events, log, name="Simpul Lawang")
    ani, budi, citra, dewi, eko = known_members(
        events, log, {"name": "Ani", "language": "en"}, {}, {}, {}, {}
    )

    def membership(member, event_type, hub_id=hub["hub_id"], **fields):
        data = make_membership(hub_id, member["member_id"], **fields)
        events.publish("community", event_type, {"reason": "-", **data})
        log.wait_known("memberships", data["membership_id"])

    membership(ani, "membership_approved", role="seller")
    membership(ani, "membership_approved", role="buyer")
    membership(budi, "membership_approved", role="buyer")
    membership(citra, "membership_requested")
    membership(dewi, "membership_rejected")
    membership(eko, "membership_approved", hub_id=other_hub["hub_id"])
    arrived(sms_sink, ani["phone"], 2)
    members = (ani, budi, citra, dewi, eko)
    phones = {member["phone"] for member in members}
    # only these members' messages: the stack's admin gets a welcome of its own
    wait_until(
        lambda: len([m for m in sms_sink.messages if m["to"] in phones]) == 5,
        message="the decisions",
    )
    log.settled(*(m["member_id"] for m in members))

    training = make_training(hub["hub_id"], title="Foto produk", capacity=25)
    events.publish("community", "training_scheduled", training)
    arrived(sms_sink, budi["phone"], 2)
    arrived(sms_sink, ani["phone"], 3)
    log.settled(ani["member_id"], budi["member_id"])

    announced = [m for m in sms_sink.messages if "Foto produk" in m["message"]]
    assert sorted((m["to"], m["message"]) for m in announced) == sorted(
        [
            (
                ani["phone"],
                "New training at Simpul Dau: Foto produk, 01/12/2026 10:00 WIB. 25 places. "
                "Enrol in the KOMPOR DESA app.",
            ),
            (
                budi["phone"],
                "Pelatihan baru di Simpul Dau: Foto produk, 01/12/2026 10.00 WIB. "
                "Kuota 25 orang. Daftar lewat aplikasi KOMPOR DESA.",
            ),
        ]
    )
    for member in (citra, dewi, eko):
        assert not [m for m in sms_sink.to(member["phone"]) if "Foto produk" in m["message"]]


def test_through_the_gateway_an_approval_made_while_notifications_is_down_arrives_after(
    stack, api, admin, sms_sink
):
    koor = hub_with_coordinator(api, admin)
    hub = koor.hub["name"]
    siti = pending_member(api, koor.hub_id, role="seller", name="Siti")
    dodi = pending_member(api, koor.hub_id, role="buyer", name="Dodi")
    siti_phone = siti.client.get("/api/v1/me").json()["phone"]
    dodi_phone = dodi.client.get("/api/v1/me").json()["phone"]
    koor_phone = koor.coordinator.get("/api/v1/me").json()["phone"]
    wait_until(
        lambda: len([m for m in sms_sink.to(koor_phone) if "mengajukan" in m["message"]]) == 2,
        message="the coordinator told of both applications",
    )

    stack.stop("notifications")
    approve(koor.coordinator, siti.membership_id)
    assert decide(koor.coordinator, dodi.membership_id, "reject", "Data belum lengkap").ok
    stack.start("notifications")

    approved = f"Selamat Siti! Pengajuan Anda sebagai penjual di {hub} disetujui."
    wait_until(
        lambda: any(m["message"].startswith(approved) for m in sms_sink.to(siti_phone)),
        timeout=15,
        message="the approval SMS",
    )
    rejected = wait_until(
        lambda: [m for m in sms_sink.to(dodi_phone) if "belum disetujui" in m["message"]],
        message="the rejection SMS",
    )
    assert rejected[0]["message"].endswith("Alasan: Data belum lengkap")

    schedule_training(koor.coordinator, koor.hub_id, title="Foto Produk", capacity=12)
    wait_until(
        lambda: any("Foto Produk" in m["message"] for m in sms_sink.to(siti_phone)),
        message="the training announcement",
    )
    holds(lambda: len(sms_sink.to(siti_phone)) == 3, 1, message="welcome, approval, training")
    assert not [m for m in sms_sink.to(dodi_phone) if "Foto Produk" in m["message"]]
