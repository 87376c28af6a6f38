//! Precedence-climbing parser producing [`Expr`].

use crate::ast::{BinOp, Expr, PathStart, Pos, Step};
use crate::lexer::{token_text, tokenize, Tok, Token};
use crate::{codes, ExprError, Span, MAX_DEPTH, MAX_LEN, MAX_NESTING};

/// Parses XLSForm expression source (syntax only; see [`Expr::check`]).
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let len = src.chars().count();
    if len > MAX_LEN {
        return Err(ExprError::new(
            codes::TOO_LONG,
            Span::new(0, src.len()),
            format!("expression is {len} characters long, the limit is {MAX_LEN}"),
        ));
    }
    if src.trim().is_empty() {
        return Err(ExprError::new(
            codes::EMPTY,
            Span::new(0, src.len()),
            "empty expression",
        ));
    }
    let mut p = Parser {
        src,
        toks: tokenize(src),
        at: 0,
        nesting: 0,
    };
    let (e, _) = p.expr()?;
    let t = p.peek()?;
    if !matches!(t.tok, Tok::Eof) {
        return Err(p.unexpected(&t));
    }
    Ok(e)
}

/// An expression with its AST depth.
type Node = (Expr, usize);

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    at: usize,
    /// Syntactic nesting (groups, calls, predicates): the parser's recursion.
    nesting: usize,
}

const OPERATOR_WORDS: [&str; 4] = ["and", "or", "div", "mod"];

fn binop(t: &Tok) -> Option<BinOp> {
    Some(match t {
        Tok::Or => BinOp::Or,
        Tok::And => BinOp::And,
        Tok::Eq => BinOp::Eq,
        Tok::Ne => BinOp::Ne,
        Tok::Lt => BinOp::Lt,
        Tok::Le => BinOp::Le,
        Tok::Gt => BinOp::Gt,
        Tok::Ge => BinOp::Ge,
        Tok::Plus => BinOp::Add,
        Tok::Minus => BinOp::Sub,
        Tok::Mul => BinOp::Mul,
        Tok::Div => BinOp::Div,
        Tok::Mod => BinOp::Mod,
        _ => return None,
    })
}

impl Parser<'_> {
    /// The current token; lexical errors surface here.
    fn peek(&self) -> Result<Token, ExprError> {
        let t = self.peek_at(0);
        match t.tok {
            Tok::Error(e) => Err(e),
            _ => Ok(t),
        }
    }

    fn peek_at(&self, ahead: usize) -> Token {
        // The token list always ends with Eof or Error, and `at` never moves past it.
        let i = (self.at + ahead).min(self.toks.len().saturating_sub(1));
        self.toks.get(i).cloned().unwrap_or(Token {
            tok: Tok::Eof,
            span: Span::new(self.src.len(), self.src.len()),
        })
    }

    fn bump(&mut self) {
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
    }

    fn unexpected(&self, t: &Token) -> ExprError {
        ExprError::new(codes::SYNTAX, t.span, token_text(self.src, t))
    }

    fn too_deep(span: Span) -> ExprError {
        ExprError::new(
            codes::TOO_DEEP,
            span,
            format!("expression is nested more than {MAX_DEPTH} levels deep"),
        )
    }

    fn check_depth(depth: usize, span: Span) -> Result<usize, ExprError> {
        if depth > MAX_DEPTH {
            Err(Self::too_deep(span))
        } else {
            Ok(depth)
        }
    }

    fn enter(&mut self, span: Span) -> Result<(), ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(ExprError::new(
                codes::TOO_DEEP,
                span,
                format!("more than {MAX_NESTING} nested brackets"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    fn expr(&mut self) -> Result<Node, ExprError> {
        self.binary(1)
    }

    fn binary(&mut self, min_prec: u8) -> Result<Node, ExprError> {
        let (mut lhs, mut depth) = self.unary()?;
        loop {
            let t = self.peek()?;
            let Some(op) = binop(&t.tok) else { break };
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.bump();
            let (rhs, rd) = self.binary(prec + 1)?;
            depth = Self::check_depth(1 + depth.max(rd), t.span)?;
            lhs = Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
        Ok((lhs, depth))
    }

    /// Unary minus (iteratively, so `------1` costs no stack) over a union.
    fn unary(&mut self) -> Result<Node, ExprError> {
        let mut minus: Vec<Span> = Vec::new();
        loop {
            let t = self.peek()?;
            if !matches!(t.tok, Tok::Minus) {
                break;
            }
            self.bump();
            if minus.len() >= MAX_DEPTH {
                return Err(Self::too_deep(t.span));
            }
            minus.push(t.span);
        }
        let (mut e, mut depth) = self.union()?;
        for span in minus.into_iter().rev() {
            depth = Self::check_depth(depth + 1, span)?;
            e = Expr::Neg(Box::new(e));
        }
        Ok((e, depth))
    }

    fn union(&mut self) -> Result<Node, ExprError> {
        let (mut lhs, mut depth) = self.path()?;
        while let Some(span) = self.eat_pipe()? {
            let (rhs, rd) = self.path()?;
            depth = Self::check_depth(1 + depth.max(rd), span)?;
            lhs = Expr::Binary {
                op: BinOp::Union,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
        Ok((lhs, depth))
    }

    fn eat_pipe(&mut self) -> Result<Option<Span>, ExprError> {
        let t = self.peek()?;
        if matches!(t.tok, Tok::Pipe) {
            self.bump();
            Ok(Some(t.span))
        } else {
            Ok(None)
        }
    }

    /// Whether the current token starts a location step.
    fn at_step_start(&self) -> bool {
        match self.peek_at(0).tok {
            Tok::Dot | Tok::DDot | Tok::At => true,
            Tok::Name(n) => n.ends_with('*') || !matches!(self.peek_at(1).tok, Tok::LParen),
            _ => false,
        }
    }

    /// A path expression. Each form has its own function so that only the
    /// one in use occupies the stack (debug builds do not share frame slots).
    fn path(&mut self) -> Result<Node, ExprError> {
        let t = self.peek()?;
        match t.tok {
            Tok::Slash | Tok::DSlash => self.absolute_path(t),
            _ if self.at_step_start() => self.relative_path(t),
            _ => self.filter_path(t),
        }
    }

    fn absolute_path(&mut self, t: Token) -> Result<Node, ExprError> {
        self.bump();
        let mut steps = Vec::new();
        let mut depth = 1;
        if matches!(t.tok, Tok::DSlash) {
            steps.push(Step::DescendantOrSelf);
            depth = self.relative_steps(&mut steps)?;
        } else if self.at_step_start() {
            depth = self.relative_steps(&mut steps)?;
        }
        let span = Pos::new(t.span.start, self.prev_end(t.span.end));
        let e = Expr::Path {
            start: PathStart::Root,
            steps,
            span,
        };
        Ok((e, depth))
    }

    fn relative_path(&mut self, t: Token) -> Result<Node, ExprError> {
        let mut steps = Vec::new();
        let depth = self.relative_steps(&mut steps)?;
        if let [Step::Node {
            attribute: false,
            name,
            predicates,
        }] = steps.as_slice()
        {
            if predicates.is_empty() && OPERATOR_WORDS.contains(&name.as_str()) {
                return Err(self.unexpected(&t));
            }
        }
        let span = Pos::new(t.span.start, self.prev_end(t.span.end));
        let e = Expr::Path {
            start: PathStart::Relative,
            steps,
            span,
        };
        Ok((e, depth))
    }

    /// A filter expression, optionally followed by `/` or `//` and steps.
    fn filter_path(&mut self, t: Token) -> Result<Node, ExprError> {
        let (base, depth) = self.filter()?;
        let next = self.peek()?;
        let mut steps = Vec::new();
        match next.tok {
            Tok::Slash => self.bump(),
            Tok::DSlash => {
                self.bump();
                steps.push(Step::DescendantOrSelf);
            }
            _ => return Ok((base, depth)),
        }
        let sd = self.relative_steps(&mut steps)?;
        let depth = Self::check_depth(1 + depth.max(sd), next.span)?;
        let span = Pos::new(t.span.start, self.prev_end(t.span.end));
        let e = Expr::Path {
            start: PathStart::Expr(Box::new(base)),
            steps,
            span,
        };
        Ok((e, depth))
    }

    /// End of the last consumed token.
    fn prev_end(&self, default: usize) -> usize {
        if self.at == 0 {
            return default;
        }
        self.toks.get(self.at - 1).map_or(default, |t| t.span.end)
    }

    /// Parses `step (('/' | '//') step)*` into `steps`; returns the depth.
    fn relative_steps(&mut self, steps: &mut Vec<Step>) -> Result<usize, ExprError> {
        let mut depth = 1;
        loop {
            let d = self.step(steps)?;
            depth = depth.max(d);
            let t = self.peek()?;
            match t.tok {
                Tok::Slash => self.bump(),
                Tok::DSlash => {
                    self.bump();
                    steps.push(Step::DescendantOrSelf);
                }
                _ => return Ok(depth),
            }
        }
    }

    fn step(&mut self, steps: &mut Vec<Step>) -> Result<usize, ExprError> {
        let t = self.peek()?;
        match t.tok {
            Tok::Dot => {
                self.bump();
                steps.push(Step::Current);
                Ok(1)
            }
            Tok::DDot => {
                self.bump();
                steps.push(Step::Parent);
                Ok(1)
            }
            Tok::At | Tok::Name(_) => {
                let attribute = matches!(t.tok, Tok::At);
                if attribute {
                    self.bump();
                }
                let nt = self.peek()?;
                let Tok::Name(name) = nt.tok.clone() else {
                    return Err(self.unexpected(&nt));
                };
                self.bump();
                let (predicates, depth) = self.predicates()?;
                steps.push(Step::Node {
                    attribute,
                    name,
                    predicates,
                });
                Ok(depth)
            }
            _ => Err(self.unexpected(&t)),
        }
    }

    /// Zero or more `[expr]`; returns them and the depth (1 + deepest).
    fn predicates(&mut self) -> Result<(Vec<Expr>, usize), ExprError> {
        let mut out = Vec::new();
        let mut depth = 1;
        loop {
            let t = self.peek()?;
            if !matches!(t.tok, Tok::LBracket) {
                return Ok((out, depth));
            }
            self.bump();
            self.enter(t.span)?;
            let (e, d) = self.expr()?;
            self.leave();
            let close = self.peek()?;
            if !matches!(close.tok, Tok::RBracket) {
                return Err(self.unexpected(&close));
            }
            self.bump();
            depth = Self::check_depth(depth.max(d + 1), t.span)?;
            out.push(e);
        }
    }

    fn filter(&mut self) -> Result<Node, ExprError> {
        let (base, d) = self.primary()?;
        let (predicates, pd) = self.predicates()?;
        if predicates.is_empty() {
            return Ok((base, d));
        }
        let span = self.peek_at(0).span;
        let depth = Self::check_depth(1 + d.max(pd), span)?;
        Ok((
            Expr::Filter {
                base: Box::new(base),
                predicates,
            },
            depth,
        ))
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        let t = self.peek()?;
        match t.tok {
            Tok::LParen => self.group(t.span),
            Tok::Name(_) if matches!(self.peek_at(1).tok, Tok::LParen) => self.call(t),
            _ => self.literal(t),
        }
    }

    fn literal(&mut self, t: Token) -> Result<Node, ExprError> {
        let e = match t.tok {
            Tok::Number(n) => Expr::Number(n),
            Tok::Literal(value) => Expr::Literal {
                value,
                span: Pos(t.span),
            },
            Tok::Ref(name) => Expr::Ref {
                name,
                span: Pos(t.span),
            },
            _ => return Err(self.unexpected(&t)),
        };
        self.bump();
        Ok((e, 1))
    }

    fn group(&mut self, open: Span) -> Result<Node, ExprError> {
        self.bump();
        self.enter(open)?;
        let inner = self.expr()?;
        self.leave();
        let close = self.peek()?;
        match close.tok {
            Tok::RParen => {
                self.bump();
                Ok(inner)
            }
            Tok::Eof => Err(unclosed(open)),
            _ => Err(self.unexpected(&close)),
        }
    }

    fn call(&mut self, t: Token) -> Result<Node, ExprError> {
        let Tok::Name(name) = t.tok else {
            return Err(self.unexpected(&t));
        };
        self.bump();
        let open = self.peek()?.span;
        self.bump();
        self.enter(open)?;
        let mut args = Vec::new();
        let mut depth = 1;
        if matches!(self.peek()?.tok, Tok::RParen) {
            self.bump();
        } else {
            loop {
                if matches!(self.peek()?.tok, Tok::Eof) {
                    return Err(unclosed(open));
                }
                let (a, d) = self.expr()?;
                depth = Self::check_depth(depth.max(d + 1), open)?;
                args.push(a);
                if self.call_separator(open)? {
                    break;
                }
            }
        }
        self.leave();
        let span = Pos::new(t.span.start, self.prev_end(open.end));
        Ok((Expr::Call { name, args, span }, depth))
    }

    /// After a call argument: `,` (false) or `)` (true).
    fn call_separator(&mut self, open: Span) -> Result<bool, ExprError> {
        let sep = self.peek()?;
        match sep.tok {
            Tok::Comma => {
                self.bump();
                Ok(false)
            }
            Tok::RParen => {
                self.bump();
                Ok(true)
            }
            Tok::Eof => Err(unclosed(open)),
            _ => Err(self.unexpected(&sep)),
        }
    }
}

fn unclosed(open: Span) -> ExprError {
    ExprError::new(codes::UNCLOSED_PAREN, open, "( is not closed")
}
