from tests.factories import create_dataset
from tests.interop.helpers import upload


def test_smoke(client, world, db):
    create_dataset(client, world)
    r = client.get(f"/catalogs/{world.org_a}/export.csv", headers=world.headers("editor_a"))
    print(r.status_code, r.text)
    db.execute("DELETE FROM history_entry"); db.execute("DELETE FROM dataset")
    r2 = upload(client, world, world.org_a, r.content, dry_run=False, visibility="public")
    print(r2.status_code, r2.text[:3000])
    r3 = client.get(f"/catalogs/{world.org_a}/export.csv", headers=world.headers("editor_a"))
    assert r3.content == r.content
    r4 = upload(client, world, world.org_a, r.content, dry_run=False, visibility="public")
    print(r4.json()["summary"])
    r5 = client.get(f"/export.xlsx")
    print(r5.status_code, len(r5.content))
    assert 0
