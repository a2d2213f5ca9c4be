"""Scope: every role sees and changes only what lies in its unit's subtree."""

import pytest

from tests.conftest import csrf_token
from tests.factories import make_task


@pytest.fixture
def tasks(users, units):
    admin = users["admin"]
    return {
        "ha_long": make_task(admin, units["ha_long"]),
        "co_to": make_task(admin, units["co_to"]),
        "province": make_task(admin, units["province"]),
    }


# role/user → which of the tasks it may open
VISIBILITY = {
    "ha_long": {"ha_long"},
    "co_to": {"co_to"},
    "co_to_supervisor": {"co_to"},
    "co_to_viewer": {"co_to"},
    "admin": {"ha_long", "co_to", "province"},
    "supervisor": {"ha_long", "co_to", "province"},
    "viewer": {"ha_long", "co_to", "province"},
}


@pytest.mark.parametrize("username", sorted(VISIBILITY))
def test_task_pages_answer_404_outside_the_users_subtree(login_as, tasks, username):
    client = login_as(username)
    for name, task in tasks.items():
        status = client.get(f"/tasks/{task.id}").status_code
        assert status == (200 if name in VISIBILITY[username] else 404), name


@pytest.mark.parametrize("username", sorted(VISIBILITY))
def test_task_list_shows_only_the_users_subtree(login_as, tasks, username):
    page = login_as(username).get("/tasks").get_data(as_text=True)
    for name, task in tasks.items():
        assert (task.code in page) == (name in VISIBILITY[username]), name


def test_coordinating_unit_sees_the_task_it_coordinates(login_as, users, units):
    task = make_task(users["admin"], units["ha_long"], coordinating_unit_ids=[units["co_to"].id])
    assert login_as("co_to").get(f"/tasks/{task.id}").status_code == 200


@pytest.mark.parametrize("username", ["co_to", "co_to_supervisor", "co_to_viewer"])
def test_nobody_outside_the_subtree_can_post_an_update(login_as, tasks, username):
    client = login_as(username)
    token = csrf_token(client, "/tasks")
    response = client.post(f"/tasks/{tasks['ha_long'].id}/updates",
                           data={"progress": "50", "work_done": "x", "csrf_token": token})
    assert response.status_code == 404
    assert tasks["ha_long"].progress == 0


def test_malformed_and_huge_ids_are_404_not_500(login_as, tasks):
    client = login_as("admin")
    for path in ("/tasks/abc", "/tasks/-1", "/tasks/99999999999999999999", "/tasks/1.5"):
        assert client.get(path).status_code == 404, path
