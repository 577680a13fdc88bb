"""Browser tests of the room taking part (issue 28): a predict-and-reveal poll answered on several phones, and a
role-play of the five societies over three simulated years, on ``python -m dashboard.serve`` driven by Debian's
Chromium (tests/browser_support.py; the server is the session's).  The phones are pages of their own browser
contexts, as the follow test's (tests/test_workshop_room_e2e.py).  Short runs of the smallest community keep them
quick.  Screenshots go to /tmp (five_society_play_*.png).
"""

from __future__ import annotations

import os
import random
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from browser_support import ACTION_TIMEOUT, PlaywrightError, browser_page, expect, settled

from dashboard.room_play import ROLE_LEVERS, ROLES, YEAR_WEEKS
from sim.tables.glossary import label

SHOTS = Path(tempfile.gettempdir())
PROJECTOR = (1366, 768)
PHONE = (390, 844)
WEEK = {"en": "Week {week} of {steps}", "zh": "第 {week} 周 / 共 {steps} 周"}



def open_room(page, lang: str) -> str:
    """The trainer opens a room from the sidebar; its code."""
    expect(page.get_by_text(label("key_indicators", lang), exact=True)).to_be_visible()
    settled(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text(label("room", lang), exact=True).click()
    sidebar.get_by_role("button", name=label("room_open", lang)).click()
    qr = page.locator(".st-key-room_qr img")
    expect(qr).to_be_visible()
    return re.search(r"\?follow=(\d{4})$", qr.get_attribute("alt")).group(1)


@contextmanager
def phones(page, server, code: str, langs: list[str]):
    """One phone page per language in ``langs``, each in its own browser context, joined to room ``code``."""
    pages = []
    try:
        for lang in langs:
            ctx = page.context.browser.new_context(
                viewport={"width": PHONE[0], "height": PHONE[1]}, locale="zh-CN" if lang == "zh" else "en-US"
            )
            phone = ctx.new_page()
            phone.goto(f"{server.url}/?follow={code}&lang={lang}", wait_until="commit")  # the phones load together
            pages.append(phone)
        numbers = []
        for phone, lang in zip(pages, langs, strict=True):
            expect(phone).to_have_url(re.compile(r"[?&]me=[0-9a-f]{16}"))  # its id, kept in its link for a reload
            you = re.escape(label("participant_you", lang, n=0)).replace("0", r"(\d+)")
            note = phone.get_by_text(re.compile(f"^{you}$"))
            expect(note).to_have_count(1)
            numbers.append(int(re.match(you, note.inner_text()).group(1)))
        assert sorted(numbers) == list(range(1, len(pages) + 1))  # each joined once, in the order they arrived
        yield pages
    finally:
        for phone in pages:
            phone.context.close()


def test_a_poll_is_answered_on_the_phones_counted_live_and_revealed_beside_the_model(server):
    """The trainer opens a poll on the scenario's indicator; three phones answer (one changes its mind); the trainer's
    view shows how many answered, not what; the reveal shows the room's answers beside the model's B − A, on the
    projector and on every phone, each in its language."""
    with browser_page(
        server, "lang=zh&community=relocation&weeks=2&B=five_society", viewport=PROJECTOR, locale="zh-CN"
    ) as b:
        page = b.page
        code = open_room(page, "zh")
        with phones(page, server, code, ["zh", "zh", "en"]) as (p1, p2, p3):
            box = page.locator(".st-key-poll_box")
            indicator = label("response_rate", "zh")  # no workshop scenario: the large chart's indicator
            box.get_by_role("button", name=label("poll_open", "zh", indicator=indicator)).click()
            expect(box.locator(".poll-answered")).to_have_text(label("poll_count", "zh", n=0, m=3))
            for phone, lang, choice in (
                (p1, "zh", "higher"),
                (p2, "zh", "lower"),
                (p3, "en", "lower"),
                (p2, "zh", "same"),
            ):  # p2 changes its mind: one answer each
                poll = phone.locator(".st-key-phone_poll")
                expect(poll).to_contain_text(
                    label("poll_question", lang, weeks=2, indicator=label("response_rate", lang))
                )
                poll.get_by_role("button", name=label(f"poll_choice_{choice}", lang), exact=True).click()
                expect(poll).to_contain_text(
                    label("poll_your_answer", lang, choice=label(f"poll_choice_{choice}", lang))
                )
            expect(box.locator(".poll-answered")).to_have_text(label("poll_count", "zh", n=3, m=3))  # live, no click
            expect(box.locator(".poll-dist, .poll-result")).to_have_count(0)  # how many answered, not what
            page.screenshot(path=str(SHOTS / "five_society_play_poll_open_zh.png"))
            for week in (1, 2):
                page.get_by_role("button", name=label("step_button", "zh"), exact=True).click()
                expect(page.get_by_text(WEEK["zh"].format(week=week, steps=2))).to_be_visible()
            settled(page)
            box.get_by_role("button", name=label("poll_reveal", "zh")).click()
            counts = box.locator(".poll-count")
            expect(counts).to_have_text(
                [label("poll_share", "zh", count=c, share=s) for c, s in ((1, 33), (1, 33), (1, 33))]
            )
            diff = page.locator(".st-key-diff_response_rate [data-testid='stMetricValue']").inner_text()
            expect(box.locator(".poll-diff")).to_have_text(diff)  # the model's B − A, as the page shows it
            expect(box.locator(".poll-interval")).to_have_text(label("poll_no_interval", "zh"))
            page.screenshot(path=str(SHOTS / "five_society_play_poll_reveal_zh.png"))
            expect(p1.locator(".st-key-phone_poll .poll-diff")).to_have_text(diff)
            expect(p3.locator(".st-key-phone_poll .poll-count").first).to_have_text(
                label("poll_share", "en", count=1, share=33)
            )
            expect(p3.locator(".st-key-phone_poll button")).to_have_count(0)  # revealed: no more answers
            expect(p3.locator(".st-key-phone_poll .poll-interval")).to_have_text(label("poll_no_interval_phone", "en"))
            p3.screenshot(path=str(SHOTS / "five_society_play_poll_phone_en.png"), full_page=True)


def decide(phone, lang: str, role: str, year: int) -> None:
    """The phone's role decides year ``year``: a number lever set to a value of the year, a toggle flipped; sent
    (the confirmation is awaited by :func:`sent`, so that the phones decide together)."""
    form = phone.locator(".st-key-phone_play").get_by_test_id("stForm")
    send = form.get_by_role("button", name=label("play_send", lang, year=year))
    expect(send).to_be_visible()
    expect(form).to_have_count(1)  # last year's form gone (the phone's rerun has ended)
    numbers = {
        "policy.gov_purchase.budget_yuan_per_year": ("lever_gov_budget", 100_000 * year),
        "policy.social_work.extra_social_workers": ("lever_social_workers", year),
    }
    for key in ROLE_LEVERS[role]:
        if key in numbers:  # the organisation's contract: 100,000 more each year; social workers: one more each year
            term, value = numbers[key]
            box = form.get_by_role("spinbutton", name=label(term, lang))
            expect(box).to_have_count(1)
            box.fill(str(value))
    toggles = {"committee": "lever_deliberation", "volunteers": "lever_moral_bank", "charity": "lever_fundraising"}
    if role in toggles:  # a toggle each, flipped: on in year 1, off in year 2, on in year 3
        toggle = form.get_by_text(label(toggles[role], lang), exact=True)
        expect(toggle).to_have_count(1)
        toggle.click()
    send.click()


def choose_role(phone, lang: str, role: str, tries: int = 3) -> None:
    """The phone picks ``role`` and shows it. A phone reruns on its own to follow the trainer; a click that lands
    while a rerun redraws the radio is lost (a fresh-clone CI run beside a study: "Social organisation" clicked,
    "Your role: Community committee" still shown 90 s later), so the pick is clicked again if it did not take."""
    box = phone.locator(".st-key-phone_play")
    chosen = label("play_your_role", lang, role=label(f"role_{role}", lang))
    for _ in range(tries - 1):
        box.get_by_text(label(f"role_{role}", lang), exact=True).click()
        try:
            expect(box).to_contain_text(chosen, timeout=ACTION_TIMEOUT)
            return
        except AssertionError:
            continue
    box.get_by_text(label(f"role_{role}", lang), exact=True).click()
    expect(box).to_contain_text(chosen)  # the last try waits as long as any other check


def sent(phone, lang: str, year: int) -> None:
    head = label("play_sent", lang, year=year, levers="|").split("|")[0]  # "Sent for year 2: "
    expect(phone.locator(".st-key-phone_play")).to_contain_text(head)


def test_five_participants_play_the_five_societies_for_three_years(server):
    """Five phones take the five roles; each year they decide, the trainer runs the year when all have decided (year 3:
    the charity role does not decide, the trainer runs it anyway); the decisions are B's starting levers (year 1) and
    lever changes in force from weeks 53 and 105, listed, marked on the charts and in the link; the charts on the
    projector and on the phones reach week 156."""
    weeks = 3 * YEAR_WEEKS
    langs = ["zh", "en", "zh", "en", "zh"]
    with browser_page(server, f"lang=en&community=relocation&weeks={weeks}&B=baseline", viewport=PROJECTOR) as b:
        page = b.page
        code = open_room(page, "en")
        play = page.locator(".st-key-play_box")
        play.get_by_role("button", name=label("play_start", "en")).click()
        with phones(page, server, code, langs) as pages:
            for phone, lang, role in zip(pages, langs, ROLES, strict=True):
                choose_role(phone, lang, role)
            for year in (1, 2, 3):
                deciding = ROLES if year < 3 else ROLES[:-1]
                for phone, lang, role in zip(pages, langs, deciding, strict=False):
                    decide(phone, lang, role, year)
                for phone, lang, _role in zip(pages, langs, deciding, strict=False):
                    sent(phone, lang, year)
                if year == 1:
                    page.screenshot(path=str(SHOTS / "five_society_play_trainer_en.png"))
                    pages[0].screenshot(path=str(SHOTS / "five_society_play_phone_zh.png"), full_page=True)
                name = label("play_run", "en", year=year) if year < 3 else label("play_run_force", "en", year=year, n=4)
                play.get_by_role("button", name=name).click()
                expect(page.get_by_text(WEEK["en"].format(week=year * YEAR_WEEKS, steps=weeks))).to_be_visible()
                settled(page)
            expect(play).to_contain_text(label("play_ended", "en"))
            expect(play.locator("tr[data-role='organisation'] .play-decision")).to_contain_text("→ 300,000")  # debrief
            expect(page.locator(".st-key-kpis_B")).to_contain_text(f"B: {label('play_B', 'en')}")  # B named for it
            # year 1, decided at week 0: B's starting levers, in the link
            expect(page).to_have_url(re.compile(r"B\.policy\.gov_purchase\.budget_yuan_per_year=100000"))
            expect(page).to_have_url(re.compile(r"B\.policy\.social_work\.extra_social_workers=1"))
            listed = page.locator("[data-testid='stMarkdownContainer'] li")
            expect(listed.filter(has_text=re.compile("^B from week 105:"))).to_have_count(1)
            changes = [t.strip() for t in listed.all_inner_texts() if t.strip().startswith("B from week")]
            assert len(changes) == 2, changes
            assert changes[0].startswith("B from week 53:") and changes[1].startswith("B from week 105:")
            assert "Government purchase of services (yuan per year) → 200,000" in changes[0]
            assert "Extra social workers → 2" in changes[0] and "Residents' council (deliberation) → off" in changes[0]
            assert "Moral bank → off" in changes[0] and "Public fundraising → off" in changes[0]
            assert "→ 300,000" in changes[1] and "Extra social workers → 3" in changes[1]
            assert "Public fundraising" not in changes[1]  # charity did not decide in year 3: its levers kept
            expect(page).to_have_url(re.compile(r"B(@|%40)52\.policy\.gov_purchase\.budget_yuan_per_year=200000"))
            chart = page.locator(".st-key-traj_response_rate")
            expect(chart.locator("path.line-B")).to_have_attribute("data-weeks", str(weeks))
            expect(chart.locator("g.event")).to_have_count(2)  # the changes at weeks 52 and 104, marked
            follow = pages[1].locator(".st-key-follow_chart")
            expect(follow.locator("path.line-B")).to_have_attribute("data-weeks", str(weeks))
            expect(follow.locator("g.event")).to_have_count(2)
            page.screenshot(path=str(SHOTS / "five_society_play_debrief_en.png"))


def test_presentation_mode_with_a_room_open_keeps_the_story_and_indicator_on_the_first_screen(server):
    """With a room open and a poll running, presentation mode's first screen is still the story, the large B − A
    readout and the community at work (1366×768); the room's panel comes below them (it pushed them off the screen
    before)."""
    with browser_page(server, "lang=zh&scenario=purchase&weeks=2", viewport=PROJECTOR, locale="zh-CN") as b:
        page = b.page
        open_room(page, "zh")
        box = page.locator(".st-key-poll_box")
        indicator = label("completion_rate", "zh")  # the purchase scenario's indicator
        box.get_by_role("button", name=label("poll_open", "zh", indicator=indicator)).click()
        expect(box.locator(".poll-answered")).to_have_text(label("poll_count", "zh", n=0, m=0))
        settled(page)
        page.get_by_text(label("presentation", "zh"), exact=True).click()
        readout = page.locator(".st-key-present_readout")
        chart = page.locator(".st-key-present_cv")  # the community at work, A and B
        story = page.locator(".st-key-workshop_story")
        expect(chart.locator("svg.tiles")).to_have_count(2)
        expect(story).to_contain_text(label("ws_purchase_title", "zh"))
        settled(page)
        page.get_by_role("button", name=label("step_button", "zh"), exact=True).click()  # past week 0's hint
        expect(page.get_by_text(WEEK["zh"].format(week=1, steps=2))).to_be_visible()
        settled(page)
        page.wait_for_timeout(800)
        for element in (story, readout, chart):
            frame = element.bounding_box()
            assert frame and frame["y"] + frame["height"] <= PROJECTOR[1] + 1, (element, frame)
        expect(box.locator(".poll-answered")).to_have_text(label("poll_count", "zh", n=0, m=0))  # still there, below
        assert box.bounding_box()["y"] >= chart.bounding_box()["y"] + chart.bounding_box()["height"]
        page.screenshot(path=str(SHOTS / "five_society_play_present_room_zh.png"))


# the room's random-click test: its seed, its actions and participants (more: E2E_ROOM_ACTIONS=200)
ROOM_CLICKS_SEED = int(os.environ.get("E2E_ROOM_SEED", "29"))  # its 40 actions have every kind
ROOM_ACTIONS = int(os.environ.get("E2E_ROOM_ACTIONS", "40"))
ROOM_PARTICIPANTS = 10
ROOM_CHECK_EVERY = 20
TRAINER_ACTIONS = ("step", "play", "language", "present", "panel", "tab", "poll", "roleplay")
PHONE_ACTIONS = ("answer", "decide")


def _click_if_there(locator) -> None:
    """Click ``locator``; if it went away meanwhile (the page redrew without it: presentation mode left, the poll
    closed by the trainer, a phone's panel moved on), the click is skipped, as a person would find it gone."""
    try:
        locator.click(timeout=5_000)
    except PlaywrightError:
        if locator.count() and locator.is_visible() and locator.is_enabled():
            locator.click(timeout=ACTION_TIMEOUT)  # still there: a slow redraw, the second try must land


def _visible(locator):
    return [locator.nth(i) for i in range(locator.count()) if locator.nth(i).is_visible()]


def _both(*keys: str) -> re.Pattern:
    """The labels of ``keys`` in either language: the page's language changes under the random clicks."""
    return re.compile("^(" + "|".join(re.escape(label(k, lang)) for k in keys for lang in ("zh", "en")) + ")$")


def _trainer_action(page, rng: random.Random, action: str) -> None:
    """One of TRAINER_ACTIONS on the trainer's page, in whatever language it shows, without waiting for it to redraw.
    A control the page does not show just now (the sidebar folded, the poll's reveal before it is open) is skipped,
    as a trainer would find it missing."""
    present = page.locator(".st-key-present_readout").count() > 0
    if action == "step":
        button = page.get_by_role("button", name=_both("step_button"))
        if button.is_enabled():
            button.click(timeout=ACTION_TIMEOUT, force=True)
    elif action == "play":
        button = page.get_by_role("button", name=_both("play", "pause"))
        if button.is_enabled():  # not at the run's end; force: during Play the page redraws under the pointer
            button.click(timeout=ACTION_TIMEOUT, force=True)
    elif action == "language" and page.get_by_test_id("stSidebar").is_visible():
        _click_if_there(page.get_by_test_id("stSidebar").get_by_test_id("stButtonGroup")
                        .get_by_text(rng.choice(("中文", "English")), exact=True))
    elif action in ("present", "language"):  # the sidebar folded (presentation mode): its toggle instead
        page.get_by_text(_both("presentation")).click(timeout=ACTION_TIMEOUT)
    elif action == "panel" and present:
        _click_if_there(page.locator(".st-key-present_readout").get_by_text(
            _both(rng.choice(("cv_title", "present_panel_chart")))))
    elif action in ("tab", "panel"):
        key = rng.choice(("tab_trajectories", "tab_difference", "tab_map", "tab_linkage", "tab_fund"))
        _click_if_there(page.get_by_role("tab", name=_both(key)))
    elif action in ("poll", "roleplay"):
        keys = ("btn_poll_open", "btn_poll_reveal", "btn_poll_close") if action == "poll" else \
            ("btn_play_start", "btn_play_run", "btn_play_run", "btn_play_stop")
        shown = [k for k in keys if page.locator(f".st-key-{k} button").count()]
        if shown:
            _click_if_there(page.locator(f".st-key-{rng.choice(shown)} button").first)


def _phone_action(phone, rng: random.Random, action: str) -> None:
    """A participant answers the poll (a choice button, if a poll is open) or plays its role (takes a free role, or
    flips a toggle of its decision and sends it), whatever its phone shows just now."""
    if action == "answer":
        buttons = _visible(phone.locator(".st-key-phone_poll button"))
        if buttons:
            _click_if_there(rng.choice(buttons))
        return
    box = phone.locator(".st-key-phone_play")
    send = _visible(box.locator("[data-testid='stFormSubmitButton'] button"))
    if send:
        toggles = _visible(box.get_by_test_id("stCheckbox"))
        if toggles:
            _click_if_there(rng.choice(toggles))
        _click_if_there(send[0])
        return
    roles = _visible(box.locator("button"))
    if roles:
        _click_if_there(rng.choice(roles))


def _paused(page) -> None:
    """Pause, if the page plays, once its run has finished: a Play clicked just before the checkpoint can still be
    on its way (its page run not yet showing Pause; seen once: the trainer played on from week 55 to the end while
    the phones were checked against week 55)."""
    settled(page)
    pause = page.get_by_role("button", name=_both("pause"))
    while pause.count():
        try:
            pause.click(timeout=ACTION_TIMEOUT, force=True)  # force: during Play the page redraws under the pointer
        except PlaywrightError:
            if pause.count():
                raise  # else the run reached its last week meanwhile, and Play stopped by itself
        settled(page)


def _shown_week(page) -> tuple[str, str]:
    """The trainer's week and run length as the page shows them, once they stay the same for a second (a click sent
    just before can still move them)."""
    def shown() -> tuple[str, str]:
        settled(page)
        text = page.locator("[data-testid='stProgress']").first.inner_text()
        return re.search(r"第 (\d+) 周 / 共 (\d+) 周|Week (\d+) of (\d+)", text).group(1, 2, 3, 4)

    now = shown()
    while True:
        page.wait_for_timeout(1_000)
        again = shown()
        if again == now:
            week, steps = (now[0], now[1]) if now[0] else (now[2], now[3])
            return week, steps
        now = again


def test_random_clicks_over_the_room_views_with_ten_participants(server):
    """ROOM_ACTIONS seeded random actions, without waiting for a redraw, by the trainer (Step, Play/Pause, language,
    presentation mode and its panel, the live view's tabs, the poll's and the role-play's buttons) and by ten
    participants' phones (answering the poll, taking a role, deciding): no exception or traceback on any page, none
    blank, every phone showing the trainer's week at each checkpoint, every kind of action done."""
    langs = ["zh", "en"] * (ROOM_PARTICIPANTS // 2)
    rng = random.Random(ROOM_CLICKS_SEED)  # the order of the actions: the same whatever the pages show
    pick = random.Random(ROOM_CLICKS_SEED + 1)  # each action's choices (which phone, which button)
    with browser_page(server, f"lang=zh&community=relocation&weeks={3 * YEAR_WEEKS}&B=five_society",
                      viewport=PROJECTOR, locale="zh-CN") as b:
        page = b.page
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        code = open_room(page, "zh")
        with phones(page, server, code, langs) as pages:
            for phone in pages:
                phone.on("pageerror", lambda e: errors.append(str(e)))
            counts: dict[str, int] = {}
            history: list[str] = []
            started = time.monotonic()
            for i in range(ROOM_ACTIONS):
                who = rng.random()
                action = rng.choice(PHONE_ACTIONS if who < 0.35 else TRAINER_ACTIONS)
                counts[action] = counts.get(action, 0) + 1
                history.append(f"{i} {action} at {time.monotonic() - started:.1f} s")
                try:
                    if action in PHONE_ACTIONS:
                        _phone_action(pick.choice(pages), pick, action)
                    else:
                        _trainer_action(page, pick, action)
                    page.wait_for_timeout(pick.randrange(0, 250))
                    assert page.locator("[data-testid='stException']").count() == 0, "an exception (trainer)"
                    if i % ROOM_CHECK_EVERY == ROOM_CHECK_EVERY - 1 or i == ROOM_ACTIONS - 1:  # a checkpoint
                        _paused(page)
                        assert "Traceback" not in page.locator("body").inner_text()
                        expect(page.get_by_role("heading", name=_both("key_indicators"))).to_be_visible()  # whole
                        week, steps = _shown_week(page)
                        for n, (phone, phone_lang) in enumerate(zip(pages, langs, strict=True)):
                            assert phone.locator("[data-testid='stException']").count() == 0, f"an exception: phone {n}"
                            assert "Traceback" not in phone.locator("body").inner_text()
                            try:
                                expect(phone.locator("[data-testid='stProgress']").first).to_contain_text(
                                    WEEK[phone_lang].format(week=week, steps=steps))
                            except AssertionError as exc:
                                phone.screenshot(path=str(SHOTS / "five_society_room_random_phone.png"), full_page=True)
                                raise AssertionError(f"phone {n} ({phone_lang}) shows, the trainer at week {week}, "
                                                     f"{phone.locator('body').inner_text()[:300]!r}") from exc
                except (AssertionError, PlaywrightError) as exc:
                    page.screenshot(path=str(SHOTS / "five_society_room_random.png"))
                    raise AssertionError(f"action {i} ({action}) after "
                                         f"{'; '.join(history[-8:])}: {exc}") from exc
            print(f"{ROOM_ACTIONS} random room actions with {ROOM_PARTICIPANTS} phones in "
                  f"{time.monotonic() - started:.0f} s: {counts}")
            page.screenshot(path=str(SHOTS / "five_society_room_random.png"))
            pages[1].screenshot(path=str(SHOTS / "five_society_room_random_phone_en.png"), full_page=True)
    assert not [e for e in errors if "exception" in e.lower() or "delta path" in e.lower()], errors[:5]
    assert set(counts) == set(TRAINER_ACTIONS) | set(PHONE_ACTIONS)
