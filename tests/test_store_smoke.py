import datetime as dt

from models import casework
from models.db import session


def test_open_case_writes_its_first_steps_with_engine_deadlines(store_url):
    with session() as s:
        case = casework.open_case(s, child_name="A Child", dob=dt.date(2015, 3, 2), requested_on=dt.date(2025, 1, 6),
                                  requester="parent", today=dt.date(2025, 1, 7), actor="t")
    with session() as s:
        case = casework.get_case(s, case.reference)
        step, final = casework.case_steps(s, case)  # the 6 weeks, and the 20 weeks watched from the request
    assert (step.key, final.key) == ("assess.decision", "plan.final")
    assert case.reference == "EHC-2025-00001"
    assert step.due_on == dt.date(2025, 2, 17) and final.due_on == dt.date(2025, 5, 26)
