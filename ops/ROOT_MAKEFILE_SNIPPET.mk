# ---------------------------------------------------------------------------
# Operations (ops/, docs/fr/ops.md). Paste into the root Makefile.
#   make install-ops                 Ansible + ansible-lint into .venv
#   make provision-ENV | deploy-ENV | rollback-ENV | backup-ENV | ping-ENV
#   EXTRA_OPTS="-e env_branch=mybranch" make deploy-staging
#   make test-ops                    end-to-end scenarios on the lab (root; skips otherwise)
#   make lint-ops                    ansible-lint
# ENV: staging, test, lab, lab-multi. Everything else: `cd ops && make ...`.
# ---------------------------------------------------------------------------
.PHONY: install-ops test-ops lint-ops lab-up lab-down

install-ops:
	$(MAKE) -C ops install

provision-%:
	$(MAKE) -C ops $@

deploy-%:
	$(MAKE) -C ops $@

rollback-%:
	$(MAKE) -C ops $@

backup-%:
	$(MAKE) -C ops $@

ping-%:
	$(MAKE) -C ops $@

test-ops:
	$(MAKE) -C ops test

lint-ops:
	$(MAKE) -C ops lint

lab-up lab-down:
	$(MAKE) -C ops $@
