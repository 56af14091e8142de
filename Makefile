# The two commands a newcomer needs: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup system-packages run test bench dist deb screenshots clean

# The suite runs on the versions the Linux bundle is built from (packaging/linux/constraints.txt).
CONSTRAINTS := packaging/linux/constraints.txt

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

# Starts the desktop application in demo mode: embedded SQLite store in ./var/demo,
# simulated reader and camera where no hardware is attached, the reference platform on loopback.
run: setup
	@missing=$$($(PY) -m app.desktop_libs); \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "安装图形界面所需的系统库：$$missing"; apt-get install -y $$missing; fi
	$(VENV)/bin/counter-app demo start --home var/demo

# Debian packages the tests need (real CUPS, SoftHSM2, Xvfb, …): tests/system-packages.d/*.txt.
system-packages:
	@bash tools/system-packages.sh tests/system-packages.d/*.txt

# The whole suite, headless; the layer rules first (import-linter), then pytest.
test: setup system-packages
	$(VENV)/bin/lint-imports --no-cache
	QT_QPA_PLATFORM=offscreen COUNTER_APP_KEYSTORE=file $(PY) -m pytest -q -p no:cacheprovider

bench: setup
	QT_QPA_PLATFORM=offscreen COUNTER_APP_KEYSTORE=file $(PY) bench/run.py

screenshots: setup
	QT_QPA_PLATFORM=offscreen COUNTER_APP_KEYSTORE=file $(VENV)/bin/counter-app ui screenshots screenshots

# One-folder bundle in dist/counter-app/, then the bundled program checks itself headless
# (in a throw-away data directory, never the builder's own). It is built by the portable CPython
# (glibc 2.28, packaging/linux/portable_python.py; 10-25 minutes the first time, then cached) in
# .venv-dist with manylinux_2_28 wheels, so it starts on UOS 20 / Kylin V10; its size is reported.
dist: setup
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[dist]'
	distpy=$$($(PY) packaging/linux/dist_env.py) && $$distpy -m PyInstaller --noconfirm --clean build.spec
	@home=$$(mktemp -d) && QT_QPA_PLATFORM=offscreen COUNTER_APP_KEYSTORE=file COUNTER_APP_HOME=$$home \
		dist/counter-app/counter-app selftest; status=$$?; rm -rf $$home; exit $$status
	@du -sh dist/counter-app

deb: dist
	$(PY) packaging/debian/build_deb.py

clean:
	rm -rf build dist .pytest_cache .venv-dist
