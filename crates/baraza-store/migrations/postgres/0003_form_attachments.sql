-- Media and CSV files that a form uses (select_one_from_file lists, pulldata tables, images and
-- sounds in labels), served to ODK Collect through the form's manifest.
CREATE TABLE form_attachments (
    form_id     BIGINT NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    name        TEXT   NOT NULL,
    sha256      TEXT   NOT NULL,
    md5         TEXT   NOT NULL,
    size        BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (form_id, name)
);
