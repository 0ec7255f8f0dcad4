"""Command-line tasks: create-admin, seed-demo, demo-logins, audit verify, backup, restore, notices, results verify."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import User
from portal.services.demo import logins
from portal.services.demo import world as demo
from portal.services.platform import passwords
from portal.services.platform.backup.layout import BackupError
from portal.services.platform.backup.restore import restore as restore_backup
from portal.services.platform.backup.write import write_backup


def register(app: Flask) -> None:
    register_audit(app)
    register_accounts(app)
    register_demo(app)
    register_backup(app)
    register_notices(app)
    register_results(app)
    register_tallies(app)


def register_accounts(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--username", prompt="Tên đăng nhập", help="Tên đăng nhập của tài khoản Ban TĐ-KT.")
    @click.option("--full-name", default="Quản trị Ban Thi đua - Khen thưởng", show_default=True)
    @click.password_option("--password", prompt="Mật khẩu", help="Ít nhất 10 ký tự, không phổ biến, khó đoán.")
    def create_admin(username: str, full_name: str, password: str):
        """Create a secretariat (Sở Nội vụ / Ban TĐ-KT) account."""
        username = username.strip().lower()
        reason = passwords.problem(password, username=username, names=(full_name, app.config["PROVINCE_NAME"]))
        if reason is not None:
            raise click.ClickException(passwords.REASONS[reason])
        if len(username) < 3:
            raise click.ClickException("Tên đăng nhập phải có ít nhất 3 ký tự.")
        if db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
            raise click.ClickException(f"Tài khoản “{username}” đã tồn tại.")
        user = User(username=username, full_name=full_name, kind="secretariat", must_change_password=False)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo(f"Đã tạo tài khoản Ban TĐ-KT “{username}”.")


def register_demo(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database has data.")
    def seed_demo(if_empty: bool):
        """Load a demo province (clusters, 40+ units, council, two years, logins); print one login per role."""
        try:
            demo.seed(db.session)
        except RuntimeError as error:
            db.session.rollback()
            if not if_empty:
                raise click.ClickException(str(error)) from error
            click.echo("Cơ sở dữ liệu đã có dữ liệu; bỏ qua dữ liệu mẫu.")
        else:
            db.session.commit()
            click.echo("Đã nạp dữ liệu mẫu.")
        _echo_demo_logins()

    @app.cli.command("demo-logins")
    def demo_logins():
        """Print one login per role (secretariat, council member, heads, deputy, member unit) from the data."""
        _echo_demo_logins()


def _echo_demo_logins() -> None:
    year, found = logins.role_logins(db.session)
    db.session.rollback()  # read only
    if not found:
        click.echo("Không tìm thấy tài khoản mẫu nào trong cơ sở dữ liệu.")
        return
    click.echo(f"Tài khoản mẫu theo vai trò, năm thi đua {year or '—'} (mật khẩu chung: {demo.DEMO_PASSWORD}):")
    role_width = max(len(login.role) for login in found)
    name_width = max(len(login.username) for login in found)
    for login in found:
        note = "" if login.demo_password else " (đã đổi mật khẩu, không còn là mật khẩu chung)"
        click.echo(f"  {login.role:<{role_width}} | {login.username:<{name_width}} | {login.who}{note}")
    click.echo("Mỗi đơn vị và mỗi thành viên Hội đồng có một tài khoản; Ban TĐ-KT xem đủ danh sách ở trang Tài khoản.")


def register_audit(app: Flask) -> None:
    @app.cli.group("audit")
    def audit_group():
        """The audit log."""

    @audit_group.command("seal")
    def seal():
        """Chain every committed audit entry that has no seal yet (cron: every minute; a no-op when all are)."""
        from portal.services.platform import audit_seal

        db.session.close()
        sealed = audit_seal.seal_apart(db.engine)
        if sealed is None:
            click.echo("Một tiến trình khác đang niêm phong nhật ký; lần này bỏ qua.")
        else:
            click.echo(f"Đã niêm phong {sealed} bản ghi nhật ký.")

    @audit_group.command("verify")
    def verify():
        """Seal what is committed, then check the audit log's hash chain; exit 1 if any sealed entry was
        edited, deleted or reordered. Reports the entries left without a seal (count, oldest)."""
        from portal.services.platform import audit_chain, audit_seal

        db.session.close()
        audit_seal.seal_apart(db.engine)  # skipped while another sealer runs: what it leaves is reported below
        with db.engine.connect() as conn:
            verdict = audit_chain.verify(audit_seal.links(conn))
            left = audit_seal.unsealed(conn)
        _echo_verdict(verdict, left)


def _echo_verdict(verdict, left) -> None:
    """What `flask audit verify` prints: the entries without a seal, those sealed late, then the verdict."""
    if left.count:
        oldest = left.oldest.strftime("%d/%m/%Y %H:%M:%S") if left.oldest else "?"
        click.echo(f"Chưa niêm phong: {left.count} bản ghi (cũ nhất lúc {oldest} UTC).")
    if not verdict.ok:
        raise click.ClickException(
            f"Nhật ký KHÔNG toàn vẹn: bản ghi #{verdict.broken_at} — {verdict.reason} "
            f"(đã kiểm tra {verdict.count} bản ghi)."
        )
    if verdict.late:
        shown = ", ".join(f"#{entry_id}" for entry_id in verdict.late[:20])
        click.echo(
            f"Niêm phong muộn: {len(verdict.late)} bản ghi có thời điểm sớm hơn các bản ghi niêm phong trước "
            f"chúng quá 10 phút ({shown}): một giao dịch dài, hoặc bản ghi được chèn ngoài ứng dụng — hãy xem lại."
        )
    click.echo(f"Nhật ký toàn vẹn: {verdict.count} bản ghi; mã băm cuối {verdict.head}")


def _echo_progress(step: str, table: str, rows: int) -> None:
    verb = {"backup": "sao lưu", "delete": "đã xóa", "restore": "khôi phục"}[step]
    click.echo(f"  {verb:<10} {table:<28} {rows:>9} dòng")


def register_backup(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(path: Path):
        """Write the whole database to one backup file (ZIP: manifest and one JSON-lines file per table)."""
        db.session.close()  # the backup reads through its own snapshot connection
        from portal.services.platform import audit_seal

        audit_seal.seal_apart(db.engine)  # the backup carries the log sealed as far as it can be
        click.echo(f"Sao lưu cơ sở dữ liệu vào {path} …")
        try:
            summary = write_backup(
                db.engine, db.metadata, path, progress=_echo_progress, files_folder=app.config["EVIDENCE_FOLDER"]
            )
        except (BackupError, OSError) as error:
            raise click.ClickException(f"Sao lưu thất bại: {error}") from error
        click.echo(
            f"Đã sao lưu {len(summary.tables)} bảng, {summary.rows} dòng, {summary.files} tệp minh chứng "
            f"({path.stat().st_size / 1024:.1f} KB; Alembic: {summary.revision or 'không có'})."
        )

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Xóa toàn bộ dữ liệu hiện có rồi khôi phục.")
    def restore(path: Path, force: bool):
        """Restore a backup file into the database, all or nothing (refuses a non-empty one without --force)."""
        db.session.close()  # nothing of this session may hold rows or locks the restore replaces
        click.echo(f"Khôi phục từ {path} …")
        try:
            summary = restore_backup(
                db.engine,
                db.metadata,
                path,
                force=force,
                progress=_echo_progress,
                files_folder=app.config["EVIDENCE_FOLDER"],
            )
        except (BackupError, OSError) as error:
            raise click.ClickException(f"Không khôi phục: {error}") from error
        created = datetime.fromisoformat(summary.created_at).strftime("%d/%m/%Y %H:%M:%S")
        click.echo(
            f"Đã khôi phục {len(summary.tables)} bảng, {summary.rows} dòng, {summary.files} tệp minh chứng "
            f"từ bản sao lưu tạo lúc {created} UTC."
        )


def register_notices(app: Flask) -> None:
    @app.cli.group("notices")
    def notices_group():
        """Notices: deadlines near (daily) and the e-mail digest (daily)."""

    @notices_group.command("deadlines")
    @click.option("--days", default=3, show_default=True, type=click.IntRange(1, 60), help="How near is near.")
    def deadlines_command(days: int):
        """Tell whoever still has work in an open round whose deadline is within DAYS days (once per round)."""
        from portal.services.notices import deadlines

        sent = deadlines.send(db.session, days=days)
        db.session.commit()
        click.echo(f"Hạn chót trong {days} ngày tới: {sent.rounds} vòng chấm; đã tạo {sent.notices} thông báo mới.")

    @notices_group.command("digest")
    def digest_command():
        """E-mail each user who asked for it the notices not yet read: at most one message a Vietnam day."""
        from portal.services.platform import mail

        if not mail.configured(app.config):
            click.echo("Chưa cấu hình MAIL_SERVER và MAIL_SENDER: không gửi thư tổng hợp.")
            return
        if not app.config.get("PORTAL_URL"):
            raise click.ClickException("Đặt PORTAL_URL (địa chỉ của cổng, ví dụ https://thidua.example.gov.vn).")
        sent, failed = _send_digests(app)
        click.echo(f"Đã gửi {sent} thư tổng hợp thông báo; {failed} thư không gửi được.")
        if failed:
            raise click.exceptions.Exit(1)


def _digest_of(app: Flask, pending, now) -> tuple[str, str]:
    """One user's digest, in the language the user last chose on the portal."""
    from flask import url_for
    from flask_babel import force_locale, gettext

    from portal.notices.links import link_of
    from portal.services.notices import digest

    token = digest.unsubscribe_token(app.config["SECRET_KEY"], pending.user.id)
    unsubscribe = url_for("notices.unsubscribe", token=token, _external=True)
    with force_locale(pending.user.locale or "vi"):
        return digest.compose(pending, lambda notice: link_of(notice, external=True), unsubscribe, now, gettext)


def _send_digests(app: Flask) -> tuple[int, int]:
    """Each due digest in its own transaction: one that the mail server refuses is tried again on the next run."""
    from portal.models.base import utcnow
    from portal.services.notices import digest
    from portal.services.platform import mail
    from portal.services.platform.audit import record_event

    now, sent, failed = utcnow(), 0, 0
    with app.test_request_context(base_url=app.config["PORTAL_URL"]):
        for pending in digest.due(db.session, now):
            subject, body = _digest_of(app, pending, now)
            try:
                digest.send(db.session, app.config, pending, subject, body, now)
            except mail.MailError as error:
                db.session.rollback()
                failed += 1
                click.echo(f"Không gửi được thư cho {pending.user.username}: {error}", err=True)
                continue
            db.session.commit()
            sent += 1
    if sent or failed:
        summary = f"Gửi thư tổng hợp thông báo: {sent} người nhận"
        record_event(db.session, "digest_sent", summary, changes={"sent": sent, "failed": failed})
        db.session.commit()
    return sent, failed


def register_tallies(app: Flask) -> None:
    @app.cli.commands["results"].command("tallies")
    @click.option("--rebuild", is_flag=True, help="Dựng lại toàn bộ bảng tổng hợp từ điểm chấm (một giao dịch).")
    def tallies_command(rebuild: bool):
        """Check the score tallies against the scores (exit 1 on a difference), or rebuild them."""
        from portal.services.results import tallies

        if rebuild:
            written = tallies.rebuild(db.session)
            db.session.commit()
            click.echo(f"Đã dựng lại {written} dòng tổng hợp điểm từ điểm chấm.")
            return
        drifted = tallies.drift(db.session)
        db.session.rollback()  # read only
        for d in drifted[:20]:
            click.echo(f"  {d.key}: lưu {d.kept}, tính từ điểm {d.computed}")
        click.echo(f"{len(drifted)} dòng tổng hợp điểm không khớp với điểm chấm.")
        if drifted:
            raise SystemExit(1)


def register_results(app: Flask) -> None:
    @app.cli.group("results")
    def results_group():
        """Published results."""

    @results_group.command("verify")
    @click.option("--cluster", "cluster_id", type=int, help="Only this cluster (its id).")
    @click.option("--year", type=int, help="Only this emulation year (e.g. 2026).")
    def verify_results(cluster_id: int | None, year: int | None):
        """Recompute every published snapshot from its stored input and check its hash; exit 1 on a mismatch."""
        from portal.services.publication import snapshots

        checks = snapshots.verify_all(db.session, cluster_id, year)
        db.session.rollback()  # read only
        failed = 0
        for check in checks:
            s = check.snapshot
            name = f"cụm #{s.cluster_id}, năm #{s.year_id}, lần {s.revision} ({s.hash[:12]})"
            if check.hash_ok and not check.differences:
                click.echo(f"{name}: khớp")
                continue
            failed += 1
            click.echo(f"{name}: KHÔNG khớp" + ("" if check.hash_ok else " — mã băm không đúng với nội dung"))
            for d in check.differences:
                click.echo(f"  {d.path}: lưu {d.stored}, tính lại {d.computed}")
        click.echo(f"Đã kiểm tra {len(checks)} lần công bố; {failed} không khớp.")
        if failed:
            raise SystemExit(1)
