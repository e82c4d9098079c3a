import { describe, expect, it } from "vitest"
import { loggedPath } from "../src/http/AccessLog.ts"

describe("the access log's path never carries a full phone number", () => {
  it.each([
    ["/admin/users/+33612345678/sessions", "/admin/users/+33•••••••78/sessions"],
    ["/admin/users/%2B33612345678/sessions", "/admin/users/+33•••••••78/sessions"],
    ["/admin/users/whatsapp:%2B33612345678/sessions", "/admin/users/whatsapp:+33•••••••78/sessions"],
    ["/admin/users/%2B33%206%2012%2034%2056%2078/sessions", "/admin/users/+33•••••••78/sessions"],
    ["/admin/users/0033-6-12-34-56-78/sessions", "/admin/users/+00•••••••••78/sessions"],
    ["/admin/users/(+44)%207700%20900123/sessions", "/admin/users/(+44••••••••23/sessions"],
    ["/admin/users/33612345678?phone=33612345678", "/admin/users/+33•••••••78"],
    ["/admin/inbox/dead/42/retry", "/admin/inbox/dead/42/retry"],
    ["/webhooks/whatsapp", "/webhooks/whatsapp"],
    ["/bad/%E0%A4%A/path", "/bad/%E0%A4%A/path"]
  ])("%s → %s", (url, logged) => {
    expect(loggedPath(url)).toBe(logged)
  })
})
