"""The page a fake shows in place of its provider's sign-in and consent screens: the test
user, and buttons that post the authorization request back with the decision.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import FakeProvider


def approval_page(provider: FakeProvider, params: dict[str, str]) -> bytes:
    """The page, in UTF-8: the test user, and the authorization request in hidden fields."""
    name, email = (html.escape(value) for value in provider.person())
    label = html.escape(provider.label)
    hidden = "\n".join(
        f'      <input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
        for key, value in params.items()
    )
    page = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{label} (local fake)</title>
  <style>
    body {{ margin: 0; min-height: 100vh; display: grid; place-items: center;
      font: 16px/1.5 system-ui, sans-serif; background: #f4f4f5; color: #18181b; }}
    main {{ max-width: 26rem; padding: 2rem; background: #fff; border: 1px solid #e4e4e7;
      border-radius: 12px; box-shadow: 0 1px 3px rgb(0 0 0 / 8%); }}
    h1 {{ margin: 0 0 .5rem; font-size: 1.3rem; }}
    .note {{ margin: 0; color: #52525b; font-size: .9rem; }}
    .person {{ margin: 1.25rem 0; padding: .75rem 1rem; background: #fafafa;
      border: 1px solid #e4e4e7; border-radius: 8px; }}
    .person span {{ display: block; color: #52525b; font-size: .9rem; }}
    .actions {{ display: flex; gap: .5rem; }}
    button {{ font: inherit; padding: .55rem 1rem; border-radius: 8px; cursor: pointer;
      border: 1px solid #d4d4d8; background: #fff; color: #18181b; }}
    button.approve {{ background: #18181b; border-color: #18181b; color: #fff; }}
  </style>
</head>
<body>
  <main>
    <h1>Sign in with {label}</h1>
    <p class="note">This is a local fake of {label} for development and tests: no real account
      is used and nothing leaves this computer.</p>
    <div class="person"><strong>{name}</strong><span>{email}</span></div>
    <form method="post" action="/{provider.name}{provider.authorize_path}">
{hidden}
      <div class="actions">
        <button type="submit" name="decision" value="approve" class="approve"
          >Approve as test user</button>
        <button type="submit" name="decision" value="cancel">Cancel</button>
      </div>
    </form>
  </main>
</body>
</html>
"""
    return page.encode()
