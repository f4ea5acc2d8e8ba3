"""PDDL domains and problems that several planning tests use, and writing them to files.

A test that needs a variant (an extra fact, another goal) derives it from these with
``str.replace`` or keeps its own text next to the test.
"""

from __future__ import annotations

from pathlib import Path

BLOCKS_DOMAIN = """
(define (domain blocksworld)
  (:requirements :strips)
  (:predicates (clear ?x) (on-table ?x) (arm-empty) (holding ?x) (on ?x ?y))
  (:action pickup :parameters (?ob)
    :precondition (and (clear ?ob) (on-table ?ob) (arm-empty))
    :effect (and (holding ?ob) (not (clear ?ob)) (not (on-table ?ob)) (not (arm-empty))))
  (:action putdown :parameters (?ob)
    :precondition (holding ?ob)
    :effect (and (clear ?ob) (arm-empty) (on-table ?ob) (not (holding ?ob))))
  (:action stack :parameters (?ob ?underob)
    :precondition (and (clear ?underob) (holding ?ob))
    :effect (and (arm-empty) (clear ?ob) (on ?ob ?underob) (not (clear ?underob))
                 (not (holding ?ob))))
  (:action unstack :parameters (?ob ?underob)
    :precondition (and (on ?ob ?underob) (clear ?ob) (arm-empty))
    :effect (and (holding ?ob) (clear ?underob) (not (on ?ob ?underob)) (not (clear ?ob))
                 (not (arm-empty)))))
"""

GRIPPER_DOMAIN = """
(define (domain gripper)
  (:requirements :strips :typing)
  (:types room ball gripper)
  (:predicates (at-robby ?r - room) (at ?b - ball ?r - room) (free ?g - gripper)
               (carry ?b - ball ?g - gripper))
  (:action move :parameters (?from ?to - room)
    :precondition (at-robby ?from)
    :effect (and (at-robby ?to) (not (at-robby ?from))))
  (:action pick :parameters (?b - ball ?r - room ?g - gripper)
    :precondition (and (at ?b ?r) (at-robby ?r) (free ?g))
    :effect (and (carry ?b ?g) (not (at ?b ?r)) (not (free ?g))))
  (:action drop :parameters (?b - ball ?r - room ?g - gripper)
    :precondition (and (carry ?b ?g) (at-robby ?r))
    :effect (and (at ?b ?r) (free ?g) (not (carry ?b ?g)))))
"""

#: Four balls from rooma to roomb with two grippers.
GRIPPER_PROBLEM = """
(define (problem g) (:domain gripper)
  (:objects rooma roomb - room b1 b2 b3 b4 - ball left right - gripper)
  (:init (at-robby rooma) (free left) (free right)
         (at b1 rooma) (at b2 rooma) (at b3 rooma) (at b4 rooma))
  (:goal (and (at b1 roomb) (at b2 roomb) (at b3 roomb) (at b4 roomb))))
"""

#: Negative preconditions (fluent and static), equality and a constant.
SWITCHES_DOMAIN = """
(define (domain switches)
  (:requirements :strips :typing :negative-preconditions :equality)
  (:types room)
  (:constants hall - room)
  (:predicates (at ?r - room) (lit ?r - room) (door ?a ?b - room) (dark ?r - room))
  (:action walk :parameters (?from ?to - room)
    :precondition (and (at ?from) (door ?from ?to) (not (= ?from ?to)))
    :effect (and (at ?to) (not (at ?from))))
  (:action switch-on :parameters (?r - room)
    :precondition (and (at ?r) (not (lit ?r)) (not (= ?r hall)) (not (dark ?r)))
    :effect (lit ?r))
  (:action switch-off :parameters (?r - room)
    :precondition (and (at ?r) (lit ?r))
    :effect (not (lit ?r))))
"""

#: Action costs: driving costs the road's ``length`` (a numeric fluent).
ROADS_COST_DOMAIN = """
(define (domain roads)
  (:requirements :strips :typing :action-costs :numeric-fluents)
  (:types place)
  (:predicates (at ?p - place) (road ?a ?b - place))
  (:functions (total-cost) - number (length ?a ?b - place) - number)
  (:action drive :parameters (?a ?b - place)
    :precondition (and (at ?a) (road ?a ?b))
    :effect (and (not (at ?a)) (at ?b) (increase (total-cost) (length ?a ?b)))))
"""


TRANSPORT_DOMAIN = """(define (domain transport) (:requirements :typing)
  (:types location locatable - object vehicle package - locatable)
  (:predicates (road ?a ?b - location) (at ?x - locatable ?l - location)
               (in ?p - package ?v - vehicle))
  (:action drive :parameters (?v - vehicle ?a ?b - location)
    :precondition (and (at ?v ?a) (road ?a ?b)) :effect (and (at ?v ?b) (not (at ?v ?a))))
  (:action load :parameters (?v - vehicle ?l - location ?p - package)
    :precondition (and (at ?v ?l) (at ?p ?l)) :effect (and (in ?p ?v) (not (at ?p ?l))))
  (:action unload :parameters (?v - vehicle ?l - location ?p - package)
    :precondition (and (at ?v ?l) (in ?p ?v)) :effect (and (at ?p ?l) (not (in ?p ?v)))))"""

#: Six places on a one-way ring with a two-way shortcut, two trucks, three packages.
TRANSPORT_PROBLEM = """(define (problem ring) (:domain transport)
  (:objects a b c d e f - location t1 t2 - vehicle p1 p2 p3 - package)
  (:init (road a b) (road b c) (road c d) (road d e) (road e f) (road f a) (road a d)
         (road d a) (at t1 a) (at t2 d) (at p1 b) (at p2 e) (at p3 f))
  (:goal (and (at p1 e) (at p2 a) (at p3 c))))"""


def with_actions(domain: str, *actions: str) -> str:
    """``domain`` with ``actions`` (``(:action ...)`` texts) added before its closing paren."""
    body = domain.rstrip()
    assert body.endswith(")"), "not a (define ...) text"
    return body[:-1] + "".join(f"\n  {action.strip()}" for action in actions) + ")\n"


def write_pddl(folder: Path, domain: str, problem: str,
               names: tuple[str, str] = ("d.pddl", "p.pddl")) -> tuple[Path, Path]:
    """Write ``domain`` and ``problem`` into ``folder`` under ``names``; return both paths."""
    paths = (folder / names[0], folder / names[1])
    for path, text in zip(paths, (domain, problem), strict=True):
        path.write_text(text)
    return paths


def read_pddl(folder: Path, domain: str, problem: str,
              names: tuple[str, str] = ("d.pddl", "p.pddl")):
    """:func:`write_pddl`, then read the files back as a lifted task (``ahd.planners.read_task``).
    """
    from ahd.planners import read_task

    return read_task(*write_pddl(folder, domain, problem, names))

#: A line a - b - c - d to walk, a key to fetch at b, a light that matters to nobody.
LINE_DOMAIN = """(define (domain line)
  (:requirements :strips :typing)
  (:types place)
  (:predicates (at ?p - place) (link ?p ?q - place) (key-at ?p - place) (have-key) (light))
  (:action move :parameters (?p ?q - place)
    :precondition (and (at ?p) (link ?p ?q)) :effect (and (at ?q) (not (at ?p))))
  (:action take :parameters (?p - place)
    :precondition (and (at ?p) (key-at ?p)) :effect (and (have-key) (not (key-at ?p))))
  (:action switch :parameters () :precondition (and) :effect (light)))
"""
LINE_PROBLEM = """(define (problem walk) (:domain line)
  (:objects a b c d - place)
  (:init (at a) (key-at b) (link a b) (link b a) (link b c) (link c b) (link c d) (link d c))
  (:goal (and (at d) (have-key))))
"""
