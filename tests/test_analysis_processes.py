"""AnalysisProcesses, which ExtractEntities and TagTopics share: the object held in this
process or in spawned children, a batch split between the children and put back in order;
a child that dies is replaced, and only the item that kills it comes back as an error.
"""

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from newsmon.pipelines.analysis_processes import AnalysisProcesses


class Doubler:
    """Doubles numbers and adds ``offset``; the item "die" ends its process at once."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def double(self, items: list) -> list[tuple[int, int]]:
        if "die" in items:
            os._exit(3)
        return [(2 * item + self.offset, os.getpid()) for item in items]


def _offset(held: Doubler) -> int:
    return held.offset


def test_one_process_holds_the_object_here():
    held = AnalysisProcesses(1, Doubler, 1)
    assert held.map(Doubler.double, [1, 2, 3]) == [(3, os.getpid()), (5, os.getpid()), (7, os.getpid())]
    assert held.call(_offset) == 1
    assert held.map(Doubler.double, []) == []


def test_children_share_a_batch_and_give_it_back_in_order():
    children = AnalysisProcesses(2, Doubler, 10)
    found = children.map(Doubler.double, list(range(7)))
    assert [value for value, _ in found] == [10 + 2 * n for n in range(7)]
    assert os.getpid() not in {pid for _, pid in found}  # which child takes a share is the pool's choice
    assert children.call(_offset) == 10


def test_a_child_that_dies_is_replaced_and_only_its_item_fails():
    children = AnalysisProcesses(2, Doubler, 0)
    found = children.each(Doubler.double, [1, "die", 3])
    assert [value for value, _ in (found[0], found[2])] == [2, 6]
    assert isinstance(found[1], BrokenProcessPool)
    with pytest.raises(BrokenProcessPool):
        children.map(Doubler.double, ["die"])
    assert [value for value, _ in children.map(Doubler.double, [4, 5])] == [8, 10]


def test_processes_must_be_at_least_one():
    with pytest.raises(ValueError, match="at least 1"):
        AnalysisProcesses(0, Doubler, 0)
