"""The front door and the admin answer in Chinese, with a bounded number of queries."""


def test_home_for_anonymous(client, db):
    response = client.get("/")
    assert response.status_code == 200 and "安全隐患闭环" in response.content.decode()


def test_home_lists_visible_cases(client, world, django_assert_max_num_queries):
    from tests.cases.helpers import report

    for i in range(5):
        report(world, title=f"隐患{i}")
    client.force_login(world.grid_worker)
    with django_assert_max_num_queries(8):
        body = client.get("/").content.decode()
    assert "隐患4" in body


def test_admin_case_pages_are_read_only(client, world):
    from tests.cases.helpers import report

    case = report(world)
    world.leader.is_staff = world.leader.is_superuser = True
    world.leader.save()
    client.force_login(world.leader)
    assert client.get(f"/admin/cases/case/{case.pk}/change/").status_code == 200
    assert client.post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/org/division/").status_code == 200


def test_login_page_signs_in_and_keeps_the_username_on_error(client, world):
    response = client.post("/login/", {"username": "wangge", "password": "wrong"})
    body = response.content.decode()
    assert response.status_code == 200 and "用户名或密码不正确" in body and 'value="wangge"' in body
    response = client.post("/login/", {"username": "wangge", "password": "pw-wangge"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "韩晓晴" in client.get("/").content.decode()
